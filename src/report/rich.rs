//! Running text whose numbers link to the appendix.
//!
//! Input: a sentence built by `html` with [`link`] around the numbers that have a place of
//! their own in the appendix (a glossary term, a table) and [`name`] around names from the
//! data. Output: escaped HTML in which every number is a link: the marked ones to their
//! place, every other one to the anchor the paragraph gives. Names from the data are never
//! linked, even when they hold digits, so `Q1 Kampagne` stays a name.
//!
//! Why markers inside a `String` rather than markup: the answers are whole sentences built
//! with `format!` in two languages, and the summary and the body both show them. The markers
//! are private-use characters; [`name`] replaces any of them in the data's text, so a value
//! from a file can never open a link.

use maud::{Markup, PreEscaped, html};

const LINK: char = '\u{E000}';
const TO: char = '\u{E001}';
const END: char = '\u{E002}';
const NAME: char = '\u{E003}';
const NAME_END: char = '\u{E004}';

fn is_marker(c: char) -> bool {
    matches!(c, LINK | TO | END | NAME | NAME_END)
}

/// `text` as a link to `#anchor` in the appendix.
pub fn link(anchor: &str, text: impl AsRef<str>) -> String {
    format!("{LINK}{anchor}{TO}{}{END}", text.as_ref())
}

/// A name from the data (a group, a rule, a value): shown as written, never linked.
pub fn name(text: impl AsRef<str>) -> String {
    let clean: String = text
        .as_ref()
        .chars()
        .map(|c| if is_marker(c) { '\u{FFFD}' } else { c })
        .collect();
    format!("{NAME}{clean}{NAME_END}")
}

/// Whether `c` may sit inside a number as leadcal writes one (grouping, decimals, ranges,
/// quarters and dates: `1.234,5`, `59–133`, `Q1/2024`, `01.07.2025`).
fn joins(c: char) -> bool {
    matches!(c, '.' | ',' | '/' | '–' | ':')
}

/// Plain text with each number linked to `anchor`.
fn auto(out: &mut String, text: &str, anchor: &str) {
    let cs: Vec<char> = text.chars().collect();
    let mut i = 0;
    // Where the text after the last link starts: only a character written as text since
    // then can be taken back into a number.
    let mut text_from = 0;
    while i < cs.len() {
        if !cs[i].is_ascii_digit() {
            push_escaped(out, cs[i]);
            i += 1;
            continue;
        }
        // A sign or a quarter's Q directly before the digits belongs to the number.
        let mut start = i;
        if i > text_from
            && let Some(&p) = cs.get(i - 1)
            && matches!(p, '−' | '±' | 'Q' | '×')
        {
            start = i - 1;
            // It was already written as text: take it back.
            out.truncate(out.len() - escaped(p).len());
        }
        let mut end = i;
        while end < cs.len()
            && (cs[end].is_ascii_digit()
                || (joins(cs[end]) && cs.get(end + 1).is_some_and(|c| c.is_ascii_digit())))
        {
            end += 1;
        }
        // A unit that belongs to the figure: 26,6 % (no-break space), 12.9%, 2,1×.
        if cs.get(end) == Some(&'%') || cs.get(end) == Some(&'×') {
            end += 1;
        } else if cs.get(end) == Some(&'\u{a0}') && cs.get(end + 1) == Some(&'%') {
            end += 2;
        }
        let figure: String = cs[start..end].iter().collect();
        push_link(out, anchor, &figure);
        i = end;
        text_from = end;
    }
}

fn escaped(c: char) -> String {
    let mut s = String::new();
    push_escaped(&mut s, c);
    s
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        _ => out.push(c),
    }
}

fn push_link(out: &mut String, anchor: &str, text: &str) {
    out.push_str("<a class=\"n\" href=\"#");
    text_into(out, anchor);
    out.push_str("\">");
    text_into(out, text);
    out.push_str("</a>");
}

fn text_into(out: &mut String, s: &str) {
    for c in s.chars() {
        push_escaped(out, c);
    }
}

/// `text` as markup: marked links to their place, names as names, every other number to
/// `anchor`.
pub fn rich(text: &str, anchor: &str) -> Markup {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find([LINK, NAME]) {
        auto(&mut out, &rest[..i], anchor);
        let tail = &rest[i..];
        let open = tail.chars().next().unwrap_or(LINK);
        let body = &tail[open.len_utf8()..];
        let close = if open == LINK { END } else { NAME_END };
        let Some(j) = body.find(close) else {
            // An unclosed marker (never written by `link` or `name`): the rest is text.
            auto(&mut out, body, anchor);
            rest = "";
            break;
        };
        let inner = &body[..j];
        if open == LINK {
            match inner.split_once(TO) {
                Some((to, shown)) => push_link(&mut out, to, shown),
                None => auto(&mut out, inner, anchor),
            }
        } else {
            out.push_str("<span class=\"nm\">");
            text_into(&mut out, inner);
            out.push_str("</span>");
        }
        rest = &body[j + close.len_utf8()..];
    }
    auto(&mut out, rest, anchor);
    html! { (PreEscaped(out)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_links_and_names_stay_names() {
        let s = format!(
            "{} hatten {} Leads, {} & 2,1× und Q1/2024: 26,6\u{a0}% <b>",
            name("Q1 Kampagne"),
            link("g-roc-auc", "61\u{a0}%"),
            name("x\u{E000}y")
        );
        let h = rich(&s, "a-q1").into_string();
        assert_eq!(
            h,
            "<span class=\"nm\">Q1 Kampagne</span> hatten <a class=\"n\" href=\"#g-roc-auc\">61\u{a0}%</a> Leads, <span class=\"nm\">x\u{FFFD}y</span> &amp; <a class=\"n\" href=\"#a-q1\">2,1×</a> und <a class=\"n\" href=\"#a-q1\">Q1/2024</a>: <a class=\"n\" href=\"#a-q1\">26,6\u{a0}%</a> &lt;b&gt;"
        );
    }

    #[test]
    fn signs_and_ranges_stay_with_their_number() {
        let h = rich("−83 bis 8, 345–121.676, ≥ 5", "a").into_string();
        assert_eq!(
            h,
            "<a class=\"n\" href=\"#a\">−83</a> bis <a class=\"n\" href=\"#a\">8</a>, <a class=\"n\" href=\"#a\">345–121.676</a>, ≥ <a class=\"n\" href=\"#a\">5</a>"
        );
    }
}

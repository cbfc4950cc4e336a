//! Personal-data columns: recognised by name (English and German, numbered variants such as
//! `Email 2`) and by content (e-mail addresses, phone numbers, free text, values almost every
//! lead has its own of), never read as attributes.
//!
//! Input: a column name, or a sample of its text values. Output: whether it is personal data,
//! and why. Guarantees: such a column never reaches a segment, an account view or a report
//! (the leads loader leaves it out and warns).

/// Whether a leads column is personal data by its name (an email address, a person's name,
/// a phone number, an address, free-text notes): such columns are never attributes, so no
/// segment, account view or report can show them.
pub fn is_personal(column: &str) -> bool {
    // German letters spelt out, so `Straße` is `strasse`; numbered variants (`Email 2`,
    // `Telefon_3`) are their base name.
    let folded: String = column
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            'ß' => "ss".chars().collect::<Vec<_>>(),
            'ä' => "ae".chars().collect(),
            'ö' => "oe".chars().collect(),
            'ü' => "ue".chars().collect(),
            c => vec![c],
        })
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let n = folded.trim_end_matches(|c: char| c.is_ascii_digit());
    let n = if n.is_empty() { folded.as_str() } else { n };
    const EXACT: &[&str] = &[
        "email",
        "mail",
        "emailaddress",
        "name",
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "givenname",
        "familyname",
        "phone",
        "mobile",
        "telephone",
        "tel",
        "fax",
        "address",
        "street",
        "streetaddress",
        "postcode",
        "postalcode",
        "zip",
        "zipcode",
        "notes",
        "note",
        "comment",
        "comments",
        "description",
        "linkedin",
        "linkedinurl",
        "twitter",
        "ip",
        "ipaddress",
        "birthday",
        "birthdate",
        "dateofbirth",
        "dob",
        "ssn",
        "salutation",
        "contact",
        "contactperson",
        "mobilephone",
        "cell",
        "cellphone",
        // German
        "vorname",
        "nachname",
        "familienname",
        "kontakt",
        "kontaktperson",
        "ansprechpartner",
        "ansprechpartnerin",
        "anmerkung",
        "anmerkungen",
        "notiz",
        "notizen",
        "kommentar",
        "kommentare",
        "beschreibung",
        "bemerkung",
        "bemerkungen",
        "telefon",
        "telefonnummer",
        "mobil",
        "mobilnummer",
        "handy",
        "handynummer",
        "strasse",
        "hausnummer",
        "adresse",
        "anschrift",
        "plz",
        "postleitzahl",
        "emailadresse",
        "geburtsdatum",
        "geburtstag",
        "anrede",
        // The employee a lead is assigned to: a person's name (Maven's sales_agent,
        // Salesforce's Lead Owner).
        "agent",
        "owner",
        "salesrep",
        "berater",
        "betreuer",
        "vertriebsmitarbeiter",
        "manager",
        "ceo",
        "cfo",
        "cto",
        "founder",
        "geschaeftsfuehrer",
        "geschaeftsfuehrerin",
        "inhaber",
        "inhaberin",
        "createdby",
        "assignedto",
    ];
    const SUFFIX: &[&str] = &[
        "email",
        "emailaddress",
        "emailadresse",
        "name",
        "phone",
        "phonenumber",
        "mobile",
        "telefon",
        "telefonnummer",
        "vorname",
        "nachname",
        "strasse",
        "agent",
        "owner",
        "salesrep",
        "berater",
        "betreuer",
        "manager",
        "geschaeftsfuehrer",
        "inhaber",
    ];
    EXACT.contains(&n) || SUFFIX.iter().any(|s| n.len() > s.len() && n.ends_with(s))
}

/// Why a text column is personal data by its values, or `None`: most values look like e-mail
/// addresses or phone numbers, or the column is free text (several words, long, mostly one
/// value per lead), or almost every lead has a value of its own with letters in it (a name or
/// an identifier). `values` are the column's first non-empty values (a few thousand suffice).
pub fn personal_by_content<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let vals: Vec<&str> = values
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let n = vals.len();
    if n < 5 {
        return None;
    }
    let share = |f: &dyn Fn(&str) -> bool| vals.iter().filter(|v| f(v)).count() as f64 / n as f64;
    let pct = |x: f64| format!("{:.0}%", 100.0 * x);
    let email = share(&looks_like_email);
    if email >= 0.5 {
        return Some(format!(
            "{} of its values look like e-mail addresses",
            pct(email)
        ));
    }
    let phone = share(&looks_like_phone);
    if phone >= 0.5 {
        return Some(format!(
            "{} of its values look like phone numbers",
            pct(phone)
        ));
    }
    let distinct = vals.iter().collect::<std::collections::HashSet<_>>().len() as f64 / n as f64;
    // Medians: one pasted document in a column of job levels makes no free text of it.
    let median = |mut v: Vec<usize>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let words = median(vals.iter().map(|v| v.split_whitespace().count()).collect());
    let chars = median(vals.iter().map(|v| v.chars().count()).collect());
    if distinct >= 0.5 && (words >= 4 || chars >= 40) {
        return Some(format!(
            "free text: a typical value has {words} words and {chars} characters, {} of the values are distinct",
            pct(distinct)
        ));
    }
    let lettered = share(&|v: &str| v.chars().any(char::is_alphabetic));
    if n >= 50 && distinct >= 0.9 && lettered >= 0.5 {
        return Some(format!(
            "{} of its values are distinct: almost every lead has its own (a name or an identifier, no group)",
            pct(distinct)
        ));
    }
    None
}

fn looks_like_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !v.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
}

fn looks_like_phone(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/".contains(c));
    // A plain run of digits is a number (revenue, an id) unless written like a dialled number.
    let dialled = v.starts_with('+') || v.starts_with('0') || v.contains([' ', '-', '(', ')', '/']);
    allowed && (7..=15).contains(&digits) && dialled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_english_and_numbered_names_are_personal() {
        for c in [
            "E-Mail-Adresse",
            "Vorname",
            "Nachname",
            "Telefonnummer",
            "Email 2",
            "Kontakt",
            "Anmerkungen",
            "Straße",
            "Ansprechpartner",
            "Mobil",
            "Notizen",
            "Kommentar",
            "Beschreibung",
            "Telefon_3",
            "Contact Email",
            "first_name",
        ] {
            assert!(is_personal(c), "{c}");
        }
        for c in [
            "Industry",
            "Branche",
            "Region",
            "Unternehmensgröße",
            "Lead Source",
            "job_level",
            "Q2",
        ] {
            assert!(!is_personal(c), "{c}");
        }
    }

    #[test]
    fn personal_values_are_found_by_content() {
        let many = |f: &dyn Fn(usize) -> String| (0..60).map(f).collect::<Vec<_>>();
        let emails = many(&|i| format!("kontakt{i}@firma.de"));
        let shared = many(&|i| ["info@a.de", "info@b.de", "vertrieb@c.de"][i % 3].to_string());
        let phones = many(&|i| format!("+49 30 1234{i:04}"));
        let notes = many(&|i| format!("Rückruf erbeten wegen Angebot {i}, bitte bald"));
        let names = many(&|i| format!("Anna{i} Schmidt"));
        for (what, v) in [
            ("e-mail", &emails),
            ("e-mail", &shared),
            ("phone", &phones),
            ("free text", &notes),
            ("distinct", &names),
        ] {
            let why = personal_by_content(v.iter().map(String::as_str));
            assert!(
                why.as_deref().is_some_and(|w| w.contains(what)),
                "{what}: {why:?}"
            );
        }
        let ordinary = [
            many(&|i| ["Software", "Retail", "Manufacturing"][i % 3].to_string()),
            many(&|i| format!("{}", 1_500_000 + i * 1000)),
            many(&|i| format!("1.{:03}.000,00", i)),
            many(&|i| ["DACH", "NA", "UKI", "APAC"][i % 4].to_string()),
            many(&|i| format!("{}", 10 + i)),
        ];
        for v in &ordinary {
            assert_eq!(
                personal_by_content(v.iter().map(String::as_str)),
                None,
                "{:?}",
                &v[..3]
            );
        }
    }
}

//! Presets: the column names of HubSpot, Salesforce, Marketo, Account Engagement and Mautic
//! exports, as defaults for a `dataset.toml` (`preset = "hubspot"`).
//!
//! Input: a preset name and the tables a `dataset.toml` names. Output: the tables with the
//! preset's names filled in where the file has them. Guarantees: a key the user gives always
//! wins; a preset name for a column the file does not have is left out (exports differ in which
//! properties they include); a table's preset applies only when the file has all of its
//! columns, so another table of the same system is not mistaken for it. The names are those of
//! `shared/notes/CRM-EXPORTS.md`; `docs/crm-exports.md` has an example of each.

use std::collections::BTreeMap;

use super::table::{Table, TableSpec};

/// One system's names.
#[derive(Debug)]
pub struct Preset {
    pub name: &'static str,
    /// Leads: canonical column -> the export's column; each applies where the file has it.
    pub leads: &'static [(&'static str, &'static str)],
    /// Leads: stage -> the date column that says when it was reached (HubSpot).
    pub stage_dates: &'static [(&'static str, &'static str)],
    /// Leads columns that are never attributes: they hold today's state (current stage,
    /// score, conversion ids), which a lead did not have at its snapshot.
    pub ignore: &'static [&'static str],
    /// Events: canonical column -> the export's column, applied together.
    pub events: &'static [(&'static str, &'static str)],
    /// Events: the leads column the events' lead id holds (HubSpot's email events).
    pub events_key: Option<&'static str>,
    /// Events: the event-type codes the vendor documents, to names.
    pub event_codes: &'static [(&'static str, &'static str)],
    /// Outcomes: canonical column -> the export's column, applied together.
    pub outcomes: &'static [(&'static str, &'static str)],
    /// Outcomes inside the events' activity log: the type column, the types that change a
    /// stage and the attributes key that holds the new one (Marketo).
    pub outcome_activity: Option<(&'static str, &'static [&'static str], &'static str)>,
    /// Companies: the key column(s) of the system's companies export (any one applies).
    pub accounts: &'static [(&'static str, &'static str)],
    /// Companies' columns that are never attributes: names, web and postal addresses, record
    /// dates and today's state.
    pub accounts_ignore: &'static [&'static str],
}

/// Every preset, by the name `dataset.toml` uses.
pub const PRESETS: [Preset; 5] = [
    Preset {
        name: "hubspot",
        leads: &[
            ("lead_id", "Record ID"),
            ("created_at", "Create Date"),
            ("account_id", "Associated Company ID"),
        ],
        stage_dates: &[
            ("subscriber", "Became a Subscriber Date"),
            ("lead", "Became a Lead Date"),
            ("mql", "Became a Marketing Qualified Lead Date"),
            ("sql", "Became a Sales Qualified Lead Date"),
            ("opportunity", "Became an Opportunity Date"),
            ("won", "Became a Customer Date"),
            ("evangelist", "Became an Evangelist Date"),
        ],
        ignore: &["Lifecycle Stage", "HubSpot Score", "Lead Status"],
        // The `email_event` table: keyed by the recipient's address.
        events: &[
            ("lead_id", "recipient"),
            ("occurred_at", "created"),
            ("event_type", "type"),
        ],
        events_key: Some("Email"),
        event_codes: &[],
        outcomes: &[],
        // The companies export, matched by the contacts' "Associated Company ID".
        outcome_activity: None,
        accounts: &[("account_id", "Record ID")],
        accounts_ignore: &[
            "Company name",
            "Company Domain Name",
            "Website URL",
            "Phone Number",
            "Street Address",
            "Postal Code",
            "Create Date",
            "Last Activity Date",
            "Last Modified Date",
            "Lifecycle Stage",
            "Company owner",
            "Associated Contact",
            "Associated Deal",
        ],
    },
    Preset {
        name: "salesforce",
        // API names (a data export) and the labels a report export uses; each applies where
        // the file has it.
        leads: &[
            ("lead_id", "Id"),
            ("lead_id", "Lead ID"),
            ("created_at", "CreatedDate"),
            ("created_at", "Create Date"),
            ("converted", "IsConverted"),
            ("converted", "Converted"),
            ("converted_at", "ConvertedDate"),
            ("converted_at", "Converted Date"),
            ("account_id", "AccountId"),
            ("account_id", "Account ID"),
        ],
        stage_dates: &[],
        // Today's state (status, rating, the records a conversion made), never attributes.
        ignore: &[
            "Status",
            "Lead Status",
            "Rating",
            // The lead's company by name: an identity, no group of leads.
            "Company",
            "Company / Account",
            "ConvertedAccountId",
            "ConvertedOpportunityId",
            "ConvertedContactId",
            "Converted Account",
            "Converted Opportunity",
            "Converted Contact",
            "Last Activity",
            "LastActivityDate",
            "Last Modified Date",
            "LastModifiedDate",
            "Lead Owner",
            "OwnerId",
        ],
        // `CampaignMember`: a campaign response per lead.
        events: &[
            ("lead_id", "LeadId"),
            ("occurred_at", "CreatedDate"),
            ("event_type", "Status"),
        ],
        events_key: None,
        event_codes: &[],
        outcomes: &[],
        // `Account`, by API name or report label.
        outcome_activity: None,
        accounts: &[("account_id", "Id"), ("account_id", "Account ID")],
        accounts_ignore: &[
            "Name",
            "Account Name",
            "Website",
            "Phone",
            "BillingStreet",
            "Billing Street",
            "BillingPostalCode",
            "Billing Zip/Postal Code",
            "CreatedDate",
            "Created Date",
            "LastModifiedDate",
            "Last Modified Date",
            "OwnerId",
            "Account Owner",
            "ParentId",
            "Parent Account",
            "Parent Account ID",
        ],
    },
    Preset {
        name: "marketo",
        leads: &[("lead_id", "id"), ("created_at", "createdAt")],
        stage_dates: &[],
        // Today's state and the record's own dates.
        ignore: &[
            "leadStatus",
            "leadScore",
            "updatedAt",
            "leadPartitionId",
            "company",
        ],
        // The bulk activity export. Type ids are the instance's own beyond the two Adobe
        // documents; map the others with [events.codes.event_type].
        events: &[
            ("lead_id", "leadId"),
            ("occurred_at", "activityDate"),
            ("event_type", "activityTypeId"),
        ],
        events_key: None,
        // The standard activity types every instance has (Adobe's list); an instance's own
        // types go in [events.codes.event_type].
        event_codes: &[
            ("1", "visit_webpage"),
            ("2", "fill_out_form"),
            ("3", "click_link"),
            ("6", "send_email"),
            ("7", "email_delivered"),
            ("8", "email_bounced"),
            ("9", "unsubscribe_email"),
            ("10", "open_email"),
            ("11", "click_email"),
            ("12", "new_lead"),
            ("13", "change_data_value"),
            ("104", "change_status_in_progression"),
        ],
        // The same activity log: "Change Status in Progression" rows, with the new status.
        outcomes: &[("lead_id", "leadId"), ("reached_at", "activityDate")],
        outcome_activity: Some(("activityTypeId", &["104"], "New Status")),
        accounts: &[],
        accounts_ignore: &[],
    },
    Preset {
        name: "account-engagement",
        leads: &[
            ("lead_id", "id"),
            ("created_at", "created_at"),
            ("account_id", "prospect_account_id"),
        ],
        stage_dates: &[],
        ignore: &[
            "score",
            "grade",
            "last_activity_at",
            "crm_lead_fid",
            "crm_contact_fid",
        ],
        // `visitor_activity`, with its numeric activity types.
        events: &[
            ("lead_id", "prospect_id"),
            ("occurred_at", "created_at"),
            ("event_type", "type"),
        ],
        events_key: None,
        event_codes: &[
            ("1", "click"),
            ("2", "view"),
            ("4", "form_success"),
            ("6", "email_sent"),
            ("11", "email_open"),
            ("12", "unsubscribe_page"),
            ("13", "bounced"),
            ("20", "visit"),
            ("21", "custom_url_click"),
            ("24", "webinar_attended"),
            ("25", "webinar_registered"),
            ("34", "video_watched_75"),
        ],
        // `lifecycle_history`: stage ids, named with [outcomes.codes.stage].
        outcomes: &[
            ("lead_id", "prospect_id"),
            ("stage", "next_stage_id"),
            ("reached_at", "created_at"),
        ],
        // `prospect_account`.
        outcome_activity: None,
        accounts: &[("account_id", "id")],
        accounts_ignore: &["name", "website", "phone", "created_at", "updated_at"],
    },
    Preset {
        name: "mautic",
        leads: &[("lead_id", "id"), ("created_at", "date_added")],
        stage_dates: &[],
        ignore: &[
            "points",
            "stage_id",
            "last_active",
            "date_identified",
            "owner_id",
        ],
        // `page_hits` has no event type: the page's URL stands for it.
        events: &[
            ("lead_id", "lead_id"),
            ("occurred_at", "date_hit"),
            ("event_type", "url"),
        ],
        events_key: None,
        event_codes: &[],
        // `lead_stages_change_log`: stage ids, named with [outcomes.codes.stage].
        outcomes: &[
            ("lead_id", "lead_id"),
            ("stage", "stage_id"),
            ("reached_at", "date_added"),
        ],
        // `companies`.
        outcome_activity: None,
        accounts: &[("account_id", "id")],
        accounts_ignore: &[
            "companyname",
            "companywebsite",
            "companyphone",
            "date_added",
        ],
    },
];

/// The preset called `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// Fill `t`'s unset names from `p`, where `header` (the file's columns) has them. `outcomes`
/// says whether the dataset has an outcomes table (then no outcome comes from the leads).
pub fn apply(p: &Preset, t: &mut TableSpec, header: &[String], outcomes: bool) {
    let has = |c: &str| header.iter().any(|h| h == c);
    let fill = |t: &mut TableSpec, names: &[(&str, &str)]| {
        for (canonical, user) in names {
            if !t.columns.contains_key(*canonical) && has(user) {
                t.columns.insert(canonical.to_string(), user.to_string());
            }
        }
    };
    let all = |names: &[(&str, &str)]| !names.is_empty() && names.iter().all(|(_, u)| has(u));
    match t.table {
        Table::Leads => {
            let mut leads: Vec<(&str, &str)> = p.leads.to_vec();
            if outcomes || !t.stage_dates.is_empty() {
                leads.retain(|(c, _)| !matches!(*c, "converted" | "converted_at"));
            }
            fill(t, &leads);
            for c in p.ignore {
                if has(c) && !t.ignore_columns.iter().any(|i| i == c) {
                    t.ignore_columns.push(c.to_string());
                }
            }
            let outcome_column =
                t.columns.contains_key("converted") || t.columns.contains_key("converted_at");
            if !outcomes && !outcome_column && t.stage_dates.is_empty() {
                t.stage_dates = p
                    .stage_dates
                    .iter()
                    .filter(|(_, c)| has(c))
                    .map(|(s, c)| (s.to_string(), c.to_string()))
                    .collect();
            }
        }
        Table::Events if all(p.events) => {
            fill(t, p.events);
            if t.lead_key.is_none() {
                t.lead_key = p.events_key.map(str::to_string);
            }
            if !p.event_codes.is_empty() && !t.codes.contains_key("event_type") {
                let codes: BTreeMap<String, String> = p
                    .event_codes
                    .iter()
                    .map(|(c, n)| (c.to_string(), n.to_string()))
                    .collect();
                t.codes.insert("event_type".into(), codes);
            }
        }
        Table::Outcomes if all(p.outcomes) => {
            fill(t, p.outcomes);
            if let Some((type_column, types, key)) = p.outcome_activity
                && t.activity.is_none()
                && has(type_column)
                && !t.columns.contains_key("stage")
                && t.fixed_stage.is_none()
            {
                t.activity = Some(super::table::Activity {
                    type_column: type_column.into(),
                    types: types.iter().map(|x| x.to_string()).collect(),
                    attributes_column: "attributes".into(),
                    stage_key: Some(key.into()),
                    fields: None,
                });
            }
        }
        Table::Accounts => {
            fill(t, p.accounts);
            for c in p.accounts_ignore {
                if has(c) && !t.ignore_columns.iter().any(|i| i == c) {
                    t.ignore_columns.push(c.to_string());
                }
            }
        }
        _ => {}
    }
}

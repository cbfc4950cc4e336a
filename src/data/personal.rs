//! Personal-data columns: recognised by name, never read as attributes.
//!
//! Input: a column name. Output: whether it names personal data. Guarantees: such a column
//! never reaches a segment, an account view or a report (the leads loader leaves it out and
//! warns).

/// Whether a leads column is personal data by its name (an email address, a person's name,
/// a phone number, an address, free-text notes): such columns are never attributes, so no
/// segment, account view or report can show them.
pub fn is_personal(column: &str) -> bool {
    let n: String = column
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
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
    ];
    const SUFFIX: &[&str] = &[
        "email",
        "emailaddress",
        "name",
        "phone",
        "phonenumber",
        "mobile",
    ];
    EXACT.contains(&n.as_str()) || SUFFIX.iter().any(|s| n.len() > s.len() && n.ends_with(s))
}

//! The personal-identifier guard: free text (notes, incident descriptions,
//! remarks) must never contain a resident's 個人番号 (My Number, 12 digits)
//! or 住民票コード (resident-record code, 11 digits).
//!
//! Detection is by check digit, so ordinary numbers mostly pass: only a digit
//! sequence of exactly the right length whose last digit is the correct
//! check digit is refused. False positives (about one in eleven 11- or
//! 12-digit numbers) are accepted; refusing is the safe side.
//!
//! # What counts as one number
//!
//! Digits are ASCII or full-width (０–９). Within a line, digit groups may be
//! separated by spaces (ASCII, tab, no-break space, U+3000) and hyphen-like
//! characters (-, ‐, ‑, ‒, –, —, ―, −, ー, －, ｰ); together they form a *run*.
//! Any other character (letters, parentheses, commas, newlines) ends a run.
//!
//! - Hyphens bind: groups joined by a hyphen are one number and are never
//!   split, so "1234-5678-9018-0000" (16 digits) passes, as do a 13-digit
//!   法人番号 and longer serials. A contiguous digit group is never split
//!   either.
//! - Spaces are ambiguous: "1234 5678 9018" is how the My Number card prints
//!   the number, but "123456789018 2件" is a number followed by a count. So
//!   every stretch of consecutive space-separated parts of a run is checked,
//!   which keeps the second example from hiding the identifier.
//!
//! An 11-digit run with a valid 住民票コード check digit is refused even if it
//! looks like a mobile phone number (090-1234-5671): the rule stays purely
//! check-digit based and refusing is the safe side. The operator can write a
//! phone number as "090(1234)5671", which splits the run.
//!
//! Neither [`PersonalIdFinding`] nor [`PiiRejection`] contains the digits
//! themselves, so both are safe to log.

/// Which identifier a finding looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalIdKind {
    /// 個人番号 (My Number): 12 digits, the last a check digit.
    MyNumber,
    /// 住民票コード: 11 digits, the last a check digit.
    ResidentCode,
}

impl PersonalIdKind {
    /// Number of digits, check digit included.
    pub const fn digits(self) -> usize {
        match self {
            PersonalIdKind::MyNumber => 12,
            PersonalIdKind::ResidentCode => 11,
        }
    }

    /// Stable code for logs and the audit trail (`my_number`, `resident_code`).
    pub const fn code(self) -> &'static str {
        match self {
            PersonalIdKind::MyNumber => "my_number",
            PersonalIdKind::ResidentCode => "resident_code",
        }
    }

    /// Japanese name of the identifier.
    pub const fn name(self) -> &'static str {
        match self {
            PersonalIdKind::MyNumber => "個人番号",
            PersonalIdKind::ResidentCode => "住民票コード",
        }
    }

    /// Japanese message telling the operator why the text was refused.
    pub const fn message(self) -> &'static str {
        match self {
            PersonalIdKind::MyNumber => {
                "個人番号と思われる12桁の番号が含まれています。個人番号・住民票コードは記録できません。"
            }
            PersonalIdKind::ResidentCode => {
                "住民票コードと思われる11桁の番号が含まれています。個人番号・住民票コードは記録できません。"
            }
        }
    }
}

/// Where an apparent identifier was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonalIdFinding {
    /// What it looks like.
    pub kind: PersonalIdKind,
    /// Byte offset of its first digit in the original text.
    pub start: usize,
    /// Byte offset just past its last digit (exclusive), so
    /// `&text[start..end]` is the number with any separators inside it.
    pub end: usize,
}

impl PersonalIdFinding {
    /// Japanese message for the operator; see [`PersonalIdKind::message`].
    pub const fn message(&self) -> &'static str {
        self.kind.message()
    }
}

/// Free text refused because it appears to contain a personal identifier.
///
/// Displays as "{field}: {message}".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {}", .finding.message())]
pub struct PiiRejection {
    /// The form field (or column) the text was meant for.
    pub field: &'static str,
    /// The first apparent identifier, for highlighting it in the form.
    pub finding: PersonalIdFinding,
}

impl PiiRejection {
    /// Japanese message for the operator, without the field name.
    pub const fn message(&self) -> &'static str {
        self.finding.message()
    }
}

/// Told of every refusal (only which kind of identifier, never the text), so that a refusal can be
/// audited wherever its error is then handled: a form shown again, an API error, a CSV import's row
/// report. The domain does no I/O itself; the program installs the observer once.
static REFUSAL_OBSERVER: std::sync::OnceLock<fn(PersonalIdKind)> = std::sync::OnceLock::new();

/// Installs the observer told of every refusal by [`guard_free_text`]. The first one installed stays;
/// later calls are ignored (tests build the application many times).
pub fn set_refusal_observer(observer: fn(PersonalIdKind)) {
    let _ = REFUSAL_OBSERVER.set(observer);
}

/// Refuses `text` if it appears to contain a 個人番号 or 住民票コード.
///
/// `field` names the destination for the error message. Call this on every
/// free-text value before it is stored.
pub fn guard_free_text(field: &'static str, text: &str) -> Result<(), PiiRejection> {
    match find_personal_identifier(text) {
        Some(finding) => {
            if let Some(observe) = REFUSAL_OBSERVER.get() {
                observe(finding.kind);
            }
            Err(PiiRejection { field, finding })
        }
        None => Ok(()),
    }
}

/// Finds the first (leftmost) apparent 個人番号 or 住民票コード in `text`.
///
/// See the module documentation for what counts as one number.
pub fn find_personal_identifier(text: &str) -> Option<PersonalIdFinding> {
    let mut run = Run::default();
    let mut prev_was_digit = false;
    let mut gap_has_hyphen = false;
    for (at, c) in text.char_indices() {
        match classify(c) {
            Class::Digit(digit) => {
                let end = at + c.len_utf8();
                if prev_was_digit {
                    run.extend_group(digit, end);
                } else {
                    run.start_group(digit, at, end, gap_has_hyphen);
                }
                prev_was_digit = true;
                gap_has_hyphen = false;
            }
            class @ (Class::Space | Class::Hyphen) if !run.is_empty() => {
                prev_was_digit = false;
                gap_has_hyphen |= class == Class::Hyphen;
            }
            _ => {
                if let Some(finding) = run.take_finding() {
                    return Some(finding);
                }
                prev_was_digit = false;
                gap_has_hyphen = false;
            }
        }
    }
    run.take_finding()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Digit(u8),
    Space,
    Hyphen,
    Other,
}

fn classify(c: char) -> Class {
    match c {
        '0'..='9' => Class::Digit(digit_value(c, '0')),
        '０'..='９' => Class::Digit(digit_value(c, '０')),
        ' ' | '\t' | '\u{00A0}' | '\u{3000}' => Class::Space,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FF0D}' | '\u{FF70}' => {
            Class::Hyphen
        }
        _ => Class::Other,
    }
}

/// Value of a digit character; `zero` is '0' or '０' and `c` is in its block.
fn digit_value(c: char, zero: char) -> u8 {
    u8::try_from(u32::from(c) - u32::from(zero)).unwrap_or(0)
}

/// A space-separated part of a run: one or more digit groups joined by
/// hyphens. Offsets are bytes in the text; `from..to` indexes `Run::digits`.
#[derive(Debug, Clone, Copy)]
struct Part {
    start: usize,
    end: usize,
    from: usize,
    to: usize,
}

#[derive(Debug, Default)]
struct Run {
    digits: Vec<u8>,
    parts: Vec<Part>,
}

impl Run {
    fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// A digit right after another digit.
    fn extend_group(&mut self, digit: u8, end: usize) {
        self.digits.push(digit);
        if let Some(part) = self.parts.last_mut() {
            part.end = end;
            part.to = self.digits.len();
        }
    }

    /// A digit after a separator gap (or at the start of the run).
    fn start_group(&mut self, digit: u8, start: usize, end: usize, after_hyphen: bool) {
        self.digits.push(digit);
        let to = self.digits.len();
        match self.parts.last_mut() {
            Some(part) if after_hyphen => {
                part.end = end;
                part.to = to;
            }
            _ => self.parts.push(Part {
                start,
                end,
                from: to - 1,
                to,
            }),
        }
    }

    /// Checks every stretch of consecutive parts that adds up to 11 or 12
    /// digits, then empties the run for reuse.
    fn take_finding(&mut self) -> Option<PersonalIdFinding> {
        let finding = self.find();
        self.digits.clear();
        self.parts.clear();
        finding
    }

    fn find(&self) -> Option<PersonalIdFinding> {
        for (i, first) in self.parts.iter().enumerate() {
            for last in &self.parts[i..] {
                let digits = self.digits.get(first.from..last.to)?;
                // Stretches only grow, so stop early: keeps long runs of
                // short numbers ("1 2 3 …") linear rather than quadratic.
                let kind = match digits.len() {
                    12 => PersonalIdKind::MyNumber,
                    11 => PersonalIdKind::ResidentCode,
                    n if n > 12 => break,
                    _ => continue,
                };
                if has_valid_check_digit(digits) {
                    return Some(PersonalIdFinding {
                        kind,
                        start: first.start,
                        end: last.end,
                    });
                }
            }
        }
        None
    }
}

/// Whether the last digit is the check digit of the ones before it.
///
/// Both identifiers use the same mod-11 scheme: weights 2, 3, 4, 5, 6, 7
/// repeating from the rightmost non-check digit; r = Σ mod 11; the check
/// digit is 0 if r ≤ 1, else 11 − r. For the 11 body digits of a 個人番号
/// that is 6,5,4,3,2,7,6,5,4,3,2 left to right; for the 10 of a 住民票コード,
/// 5,4,3,2,7,6,5,4,3,2.
fn has_valid_check_digit(digits: &[u8]) -> bool {
    let Some((&check, body)) = digits.split_last() else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .rev()
        .zip([2u32, 3, 4, 5, 6, 7].into_iter().cycle())
        .map(|(&digit, weight)| u32::from(digit) * weight)
        .sum();
    let expected = match sum % 11 {
        0..=1 => 0,
        r => 11 - r,
    };
    u32::from(check) == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent implementation with the weights spelled out left to right,
    /// so the tests do not just check the code against itself.
    fn check_digit(body: &str, weights: &[u32]) -> char {
        assert_eq!(body.len(), weights.len());
        let sum: u32 = body
            .chars()
            .zip(weights)
            .map(|(c, w)| c.to_digit(10).expect("ASCII digit") * w)
            .sum();
        let r = sum % 11;
        let check = if r <= 1 { 0 } else { 11 - r };
        char::from_digit(check, 10).expect("single digit")
    }

    fn my_number(body11: &str) -> String {
        let c = check_digit(body11, &[6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]);
        format!("{body11}{c}")
    }

    fn resident_code(body10: &str) -> String {
        let c = check_digit(body10, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]);
        format!("{body10}{c}")
    }

    /// The number with its check digit replaced by every wrong digit.
    fn wrong_variants(valid: &str) -> Vec<String> {
        let (body, check) = valid.split_at(valid.len() - 1);
        ('0'..='9')
            .filter(|&c| !check.starts_with(c))
            .map(|c| format!("{body}{c}"))
            .collect()
    }

    fn kind(text: &str) -> Option<PersonalIdKind> {
        find_personal_identifier(text).map(|f| f.kind)
    }

    fn to_full_width(ascii: &str) -> String {
        ascii
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => char::from_u32(u32::from('０') + d).expect("full-width digit"),
                None => c,
            })
            .collect()
    }

    #[test]
    fn literal_check_digits() {
        // 1·6+2·5+3·4+4·3+5·2+6·7+7·6+8·5+9·4+0·3+1·2 = 212; 212 mod 11 = 3; 11−3 = 8.
        assert_eq!(my_number("12345678901"), "123456789018");
        // 1·5+2·4+3·3+4·2+5·7+6·6+7·5+8·4+9·3+0·2 = 195; 195 mod 11 = 8; 11−8 = 3.
        assert_eq!(resident_code("1234567890"), "12345678903");
        // Remainders 0 and 1 both give 0: all zeros (sum 0) and a sum of 12.
        assert_eq!(my_number("00000000000"), "000000000000");
        assert_eq!(my_number("00000000006"), "000000000060"); // 6·2 = 12 → r = 1
        assert_eq!(kind("123456789018"), Some(PersonalIdKind::MyNumber));
        assert_eq!(kind("12345678903"), Some(PersonalIdKind::ResidentCode));
        assert_eq!(kind("000000000060"), Some(PersonalIdKind::MyNumber));
    }

    #[test]
    fn valid_my_numbers_are_refused() {
        for body in ["12345678901", "98765432109", "31415926535", "27182818284"] {
            let number = my_number(body);
            assert_eq!(kind(&number), Some(PersonalIdKind::MyNumber), "{number}");
            for wrong in wrong_variants(&number) {
                assert_eq!(kind(&wrong), None, "{wrong}");
            }
        }
    }

    #[test]
    fn separators_and_full_width() {
        for text in [
            "1234 5678 9018",
            "1234  5678  9018",
            "1234-5678-9018",
            "1234 - 5678 - 9018",
            "1234‐5678‐9018",
            "1234−5678−9018",
            "1234ー5678ー9018",
            "1234－5678－9018",
            "1234–5678–9018",
            "1234\u{3000}5678\u{3000}9018",
            "１２３４５６７８９０１８",
            "１２３４ ５６７８ ９０１８",
            "1234５６７８9018",
        ] {
            assert_eq!(kind(text), Some(PersonalIdKind::MyNumber), "{text:?}");
        }
        for text in [
            "1234 5678 9017",
            "1234-5678-9010",
            "１２３４５６７８９０１９",
        ] {
            assert_eq!(kind(text), None, "{text:?}");
        }
    }

    #[test]
    fn offsets_point_at_the_number_in_japanese_text() {
        let text = "端末の個人番号１２３４５６７８９０１８を確認";
        let finding = find_personal_identifier(text).expect("must be refused");
        assert_eq!(finding.kind, PersonalIdKind::MyNumber);
        assert_eq!(
            &text[finding.start..finding.end],
            "１２３４５６７８９０１８"
        );

        let text = "連絡先 0952-25-7000、番号 1234-5678-9018 です";
        let finding = find_personal_identifier(text).expect("must be refused");
        assert_eq!(&text[finding.start..finding.end], "1234-5678-9018");

        let text = "住民票コード12345678903。";
        let finding = find_personal_identifier(text).expect("must be refused");
        assert_eq!(finding.kind, PersonalIdKind::ResidentCode);
        assert_eq!(&text[finding.start..finding.end], "12345678903");
    }

    #[test]
    fn resident_codes() {
        for body in ["1234567890", "0000012345", "9876543210"] {
            let code = resident_code(body);
            assert_eq!(kind(&code), Some(PersonalIdKind::ResidentCode), "{code}");
            assert_eq!(
                kind(&format!("住民票コード：{}です", to_full_width(&code))),
                Some(PersonalIdKind::ResidentCode)
            );
            for wrong in wrong_variants(&code) {
                assert_eq!(kind(&wrong), None, "{wrong}");
            }
        }
    }

    #[test]
    fn longer_numbers_pass() {
        // 13-digit 法人番号-like numbers, even when 12 of the digits would
        // be a valid My Number.
        assert_eq!(kind("法人番号 1123456789018"), None);
        assert_eq!(kind("1234567890185"), None);
        // Long serials, contiguous or hyphenated.
        assert_eq!(kind("SN 98765432109876543210"), None);
        assert_eq!(kind("1234-5678-9018-0000"), None);
        assert_eq!(kind("123456789018-1"), None);
        assert_eq!(kind("1234567890312345"), None);
    }

    #[test]
    fn space_separated_neighbours_do_not_hide_a_number() {
        assert_eq!(
            kind("個人番号 123456789018 2件"),
            Some(PersonalIdKind::MyNumber)
        );
        assert_eq!(kind("1234 5678 9018 2件目"), Some(PersonalIdKind::MyNumber));
        assert_eq!(kind("No.3 12345678903"), Some(PersonalIdKind::ResidentCode));
        let text = "7 1234 5678 9018 0";
        let finding = find_personal_identifier(text).expect("must be refused");
        assert_eq!(&text[finding.start..finding.end], "1234 5678 9018");
    }

    #[test]
    fn ordinary_numbers_pass() {
        for text in [
            "",
            "端末の再起動を実施",
            "電話 0952-25-7000",
            // 11 digits, but the 住民票コード check digit fails (it would be 1 / 7).
            "090-1234-5678",
            "080-1111-2222",
            "09012345678",
            "2026-05-01 12:00 に対応",
            "令和8年5月1日 R8.5.1",
            "IPアドレス 192.168.10.254",
            "金額 1,234,567,890,123円",
        ] {
            assert_eq!(kind(text), None, "{text:?}");
        }
    }

    #[test]
    fn phone_number_with_valid_checksum_is_refused_unless_split() {
        assert_eq!(resident_code("0901234567"), "09012345671");
        assert_eq!(kind("090-1234-5671"), Some(PersonalIdKind::ResidentCode));
        assert_eq!(kind("090(1234)5671"), None);
    }

    #[test]
    fn letters_end_a_run() {
        // A letter is not a separator, so the digits after it are a run of their own.
        assert_eq!(kind("端末 A-123456789018"), Some(PersonalIdKind::MyNumber));
        assert_eq!(kind("A1B123456789018"), Some(PersonalIdKind::MyNumber));
    }

    #[test]
    fn first_finding_is_reported() {
        let text = "123456789017 / 12345678903 / 123456789018";
        let finding = find_personal_identifier(text).expect("must be refused");
        assert_eq!(finding.kind, PersonalIdKind::ResidentCode);
        assert_eq!(&text[finding.start..finding.end], "12345678903");
    }

    #[test]
    fn guard_reports_field_and_message() {
        assert_eq!(guard_free_text("備考", "問題なし"), Ok(()));
        assert_eq!(guard_free_text("備考", ""), Ok(()));
        let err = guard_free_text("備考", "個人番号は1234 5678 9018です").expect_err("refused");
        assert_eq!(err.field, "備考");
        assert_eq!(err.finding.kind, PersonalIdKind::MyNumber);
        assert_eq!(
            err.to_string(),
            "備考: 個人番号と思われる12桁の番号が含まれています。個人番号・住民票コードは記録できません。"
        );
        assert_eq!(err.message(), PersonalIdKind::MyNumber.message());
        // Safe to log: neither Display nor Debug carries the digits.
        assert!(!err.to_string().contains("9018"));
        assert!(!format!("{err:?}").contains("9018"));

        let err = guard_free_text("note", "12345678903").expect_err("refused");
        assert_eq!(
            err.message(),
            "住民票コードと思われる11桁の番号が含まれています。個人番号・住民票コードは記録できません。"
        );
    }

    /// Deterministic pseudo-random digits (64-bit LCG, Knuth's MMIX constants).
    struct Lcg(u64);

    impl Lcg {
        fn digits(&mut self, n: usize) -> String {
            (0..n)
                .map(|_| {
                    self.0 = self
                        .0
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    // The high bits of an LCG are the well-mixed ones.
                    char::from(b'0' + u8::try_from((self.0 >> 33) % 10).expect("< 10"))
                })
                .collect()
        }
    }

    #[test]
    fn property_valid_refused_wrong_passes() {
        let mut lcg = Lcg(0x5EED_2026);
        for _ in 0..10_000 {
            let number = my_number(&lcg.digits(11));
            assert_eq!(kind(&number), Some(PersonalIdKind::MyNumber), "{number}");
            for wrong in wrong_variants(&number) {
                assert_eq!(kind(&wrong), None, "{wrong}");
            }

            let code = resident_code(&lcg.digits(10));
            assert_eq!(kind(&code), Some(PersonalIdKind::ResidentCode), "{code}");
            for wrong in wrong_variants(&code) {
                assert_eq!(kind(&wrong), None, "{wrong}");
            }
        }
    }
}

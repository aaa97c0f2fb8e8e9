//! "Did you mean" suggestions: the closest known name to a misspelt one, if any is close, and
//! the one way every message words it.

/// The candidate nearest to `name` by edit distance, when it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = name.to_ascii_lowercase();
    let limit = (lowered.chars().count() / 3).clamp(1, 4);
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&lowered, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// What follows a message about the unknown `name`: " (did you mean 'x'?)" for the closest
/// candidate, or nothing when none is close.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    hint(closest(name, candidates))
}

/// " (did you mean 'x'?)" for a suggestion found earlier, or nothing.
pub fn hint(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{closest, did_you_mean, hint};

    #[test]
    fn suggests_only_close_names() {
        let ids = ["systolic_bp", "diastolic_bp", "age_years"];
        assert_eq!(closest("systolic_bpp", ids), Some("systolic_bp"));
        assert_eq!(closest("Age_Year", ids), Some("age_years"));
        assert_eq!(closest("weight", ids), None);
    }

    #[test]
    fn words_the_hint_one_way() {
        let ids = ["systolic_bp", "diastolic_bp"];
        assert_eq!(
            did_you_mean("systolic_bpp", ids),
            " (did you mean 'systolic_bp'?)"
        );
        assert_eq!(did_you_mean("weight", ids), "");
        assert_eq!(hint(None), "");
    }
}

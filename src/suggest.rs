//! "Did you mean" suggestions: the closest known name to a misspelt one, if any is close.

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

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_only_close_names() {
        let ids = ["systolic_bp", "diastolic_bp", "age_years"];
        assert_eq!(closest("systolic_bpp", ids), Some("systolic_bp"));
        assert_eq!(closest("Age_Year", ids), Some("age_years"));
        assert_eq!(closest("weight", ids), None);
    }
}

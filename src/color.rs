//! One colour policy for the whole program — verdict tables, batch summaries, the interview,
//! and clap's own help and errors — decided once at start-up, the way ripgrep, fd and bat
//! decide it. `--color always|never` wins; under `auto`: `NO_COLOR` (set and not empty) means
//! none, `CLICOLOR_FORCE` (set and not empty: anstream's reading, so `0` forces too) means
//! colour even into a pipe, `CLICOLOR=0` means none,
//! and otherwise colour only on a terminal that is not `TERM=dumb`. These are anstream's rules
//! (read through anstyle-query, as anstream reads them), and anstream is what clap writes its
//! help with: the two cannot disagree. This module decides; it never prints.

use std::ffi::OsString;

use anstream::ColorChoice;

/// `--color`'s value as given on the command line, found before clap parses it, so that
/// clap's own output (`--help`, usage errors) follows it too. The last one given wins; an
/// invalid value is left for clap to reject.
pub fn choice_from_args(args: &[OsString]) -> ColorChoice {
    let mut choice = ColorChoice::Auto;
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let Some(arg) = arg.to_str() else { continue };
        let value = if arg == "--" {
            break;
        } else if arg == "--color" {
            iter.next().and_then(|v| v.to_str())
        } else {
            arg.strip_prefix("--color=")
        };
        choice = match value {
            Some("always") => ColorChoice::Always,
            Some("never") => ColorChoice::Never,
            Some("auto") => ColorChoice::Auto,
            _ => choice,
        };
    }
    choice
}

/// Records the choice for every stream and for clap. Call once, before anything is written.
pub fn init(choice: ColorChoice) {
    choice.write_global();
}

/// Whether to colour a stream that is (or is not) a terminal, under the recorded choice.
/// The same decision as `anstream::AutoStream::choice` for that stream.
pub fn enabled(is_terminal: bool) -> bool {
    match ColorChoice::global() {
        ColorChoice::Always | ColorChoice::AlwaysAnsi => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let clicolor = anstyle_query::clicolor();
            if anstyle_query::no_color() {
                false
            } else if anstyle_query::clicolor_force() {
                true
            } else if clicolor == Some(false) {
                false
            } else {
                is_terminal
                    && (anstyle_query::term_supports_color()
                        || clicolor == Some(true)
                        || anstyle_query::is_ci())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn color_is_found_before_clap_in_both_spellings_and_the_last_wins() {
        assert_eq!(
            choice_from_args(&args(&["ks", "check", "--color", "never"])),
            ColorChoice::Never
        );
        assert_eq!(
            choice_from_args(&args(&["ks", "--color=always", "--help"])),
            ColorChoice::Always
        );
        assert_eq!(
            choice_from_args(&args(&["ks", "--color=never", "--color", "always"])),
            ColorChoice::Always
        );
        // After `--` it is a file name; a bad value is clap's to report.
        assert_eq!(
            choice_from_args(&args(&["ks", "check", "--", "--color=never"])),
            ColorChoice::Auto
        );
        assert_eq!(
            choice_from_args(&args(&["ks", "--color", "sometimes"])),
            ColorChoice::Auto
        );
    }
}

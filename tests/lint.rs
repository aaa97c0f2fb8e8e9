//! `ketascreen rules lint`: located errors with "did you mean".

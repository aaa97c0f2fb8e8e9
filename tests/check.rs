//! `ketascreen check`: one patient's answers in, the verdict out, as JSON and as a table.

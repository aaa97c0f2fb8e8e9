//! The one integration-test binary: every module runs the real `ketascreen` binary (or the
//! library's shipped case files) and asserts exact output.

mod support;

mod batch;
mod batch_json;
mod cases;
mod change_control;
mod check;
mod color;
mod conventions;
mod docs;
mod external;
mod fhir;
mod files;
mod hostile;
mod interview;
mod lint;
mod no_loss;
mod profiles;
mod properties;
mod schema;
mod toolkit;
mod walls;

//! The migrations are embedded at compile time (`sqlx::migrate!`); tell cargo to rebuild the crate when a
//! migration is added or changed, not only when the Rust sources change.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

//! Acting on a digest: signing and attesting (approve, promote, roll back and quarantine come
//! later). Every write goes through the `Store` trait, so layouts and registries behave alike.

pub mod sign;

//! The contracts every bake plugin implements and shares: configuration
//! decoding, builders, provisioners, post-processors, communicators,
//! artifacts and the user interface.

pub mod config;

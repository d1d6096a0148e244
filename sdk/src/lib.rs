//! The contracts every bake plugin implements and shares: configuration
//! decoding, builders, provisioners, post-processors, communicators,
//! artifacts and the user interface.

pub mod artifact;
pub mod cache;
pub mod cancel;
pub mod communicator;
pub mod config;
pub mod duration;
pub mod hash;
pub mod journal;
pub mod json_file;
pub mod placeholders;
pub mod plugin;
pub mod process;
pub mod provisioning;
pub mod shell;
pub mod shell_local;
pub mod ssh;
pub mod steps;
pub mod terminal;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod ui;

pub use artifact::{Artifact, ArtifactFile};
pub use cancel::Cancelled;
pub use communicator::Communicator;
pub use plugin::{
    BuildInfo, Builder, DataSource, GeneratedData, OnError, PostProcessed, PostProcessor, ProvisionContext, ProvisionHook, Provisioner, ProvisionerStep,
    TemplateInfo,
};
pub use ui::{Stream, Ui};

/// Re-exported so plugins depend on one crate.
pub use async_trait::async_trait;
pub use bake_lang as lang;
pub use tokio_util::sync::CancellationToken;

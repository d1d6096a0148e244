//! The built-in plugins, by the names templates use.

use bake_lang::diag::Diagnostics;
use bake_lang::eval::EvalBody;
use bake_sdk::artifact::{DestroyArtifact, RemoveFiles};
use bake_sdk::journal::{CleanupRegistry, ResourceOwner};
use bake_sdk::{Builder, DataSource, PostProcessor, Provisioner};

pub type BuilderFactory = fn(&EvalBody, &str) -> Result<Box<dyn Builder>, Diagnostics>;
pub type ProvisionerFactory = fn(&EvalBody, &str) -> Result<Box<dyn Provisioner>, Diagnostics>;
pub type DataSourceFactory = fn(&EvalBody, &str) -> Result<Box<dyn DataSource>, Diagnostics>;
pub type PostProcessorFactory = fn(&EvalBody, &str) -> Result<Box<dyn PostProcessor>, Diagnostics>;

const BUILDERS: &[(&str, BuilderFactory)] = &[
    ("null", bake_builder_null::prepare),
    ("qemu", bake_builder_qemu::prepare),
    ("file", bake_builder_file::prepare),
    ("amazon-ebs", bake_builder_amazon_ebs::prepare),
];

const PROVISIONERS: &[(&str, ProvisionerFactory)] = &[
    ("shell", bake_provisioner_shell::prepare),
    ("file", bake_provisioner_file::prepare),
    ("shell-local", bake_provisioner_shell_local::prepare),
    ("breakpoint", bake_provisioner_breakpoint::prepare),
];

const POST_PROCESSORS: &[(&str, PostProcessorFactory)] = &[
    ("manifest", bake_post_processor_manifest::prepare),
    ("checksum", bake_post_processor_checksum::prepare),
    ("compress", bake_post_processor_compress::prepare),
    ("shell-local", bake_post_processor_shell_local::prepare),
    ("artifice", bake_post_processor_artifice::prepare),
    ("terraform", bake_post_processor_terraform::prepare),
    ("vagrant", bake_post_processor_vagrant::prepare),
    ("amazon-import", bake_post_processor_amazon_import::prepare),
];

const DATA_SOURCES: &[(&str, DataSourceFactory)] = &[
    ("amazon-ami", bake_datasource_amazon_ami::prepare),
    ("amazon-parameterstore", bake_datasource_amazon_parameterstore::prepare),
    ("debootstrap", bake_datasource_debootstrap::prepare),
    ("null", bake_datasource_null::prepare),
];

/// Artifacts that are more than their files, by the `builder_type` of the
/// plugin that makes them, with what destroys them. Any other artifact's
/// files are removed ([`RemoveFiles`]).
const ARTIFACT_DESTROYERS: &[(&str, &dyn DestroyArtifact)] =
    &[(bake_builder_amazon_ebs::TYPE, &bake_aws::ami::DeregisterAmis), (bake_post_processor_amazon_import::TYPE, &bake_aws::ami::DeregisterAmis)];

/// What removes an intermediate artifact made by `builder_type`.
pub fn artifact_destroyer(builder_type: &str) -> &'static dyn DestroyArtifact {
    ARTIFACT_DESTROYERS.iter().find(|(k, _)| *k == builder_type).map_or(&RemoveFiles, |(_, d)| *d)
}

/// The plugins that create external resources (cloud instances, images,
/// snapshots), each naming the journal kinds it undoes: the AWS plugins'
/// `aws:*`. `bake cleanup` hands every journal entry to its owner through
/// [`cleanup_registry`].
const RESOURCE_OWNERS: &[&dyn ResourceOwner] = &[&bake_aws::resources::AwsResources, &bake_post_processor_amazon_import::resources::ImportResources];

/// Who undoes what a dead run left: the sdk for local processes and paths,
/// the plugins above for their kinds.
pub fn cleanup_registry() -> CleanupRegistry<'static> {
    CleanupRegistry::new(RESOURCE_OWNERS.iter().copied())
}

pub fn data_source(kind: &str) -> Option<DataSourceFactory> {
    DATA_SOURCES.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

pub fn data_source_names() -> Vec<&'static str> {
    DATA_SOURCES.iter().map(|(k, _)| *k).collect()
}

pub fn builder(kind: &str) -> Option<BuilderFactory> {
    BUILDERS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

pub fn provisioner(kind: &str) -> Option<ProvisionerFactory> {
    PROVISIONERS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

pub fn post_processor(kind: &str) -> Option<PostProcessorFactory> {
    POST_PROCESSORS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

pub fn builder_names() -> Vec<&'static str> {
    BUILDERS.iter().map(|(k, _)| *k).collect()
}

pub fn provisioner_names() -> Vec<&'static str> {
    PROVISIONERS.iter().map(|(k, _)| *k).collect()
}

pub fn post_processor_names() -> Vec<&'static str> {
    POST_PROCESSORS.iter().map(|(k, _)| *k).collect()
}

//! The built-in plugins, by the names templates use.

use bake_lang::diag::Diagnostics;
use bake_lang::eval::EvalBody;
use bake_sdk::{Builder, DataSource, PostProcessor, Provisioner};

pub type BuilderFactory = fn(&EvalBody, &str) -> Result<Box<dyn Builder>, Diagnostics>;
pub type ProvisionerFactory = fn(&EvalBody, &str) -> Result<Box<dyn Provisioner>, Diagnostics>;
pub type DataSourceFactory = fn(&EvalBody, &str) -> Result<Box<dyn DataSource>, Diagnostics>;
pub type PostProcessorFactory = fn(&EvalBody, &str) -> Result<Box<dyn PostProcessor>, Diagnostics>;

const BUILDERS: &[(&str, BuilderFactory)] = &[("null", bake_builder_null::prepare), ("qemu", bake_builder_qemu::prepare), ("file", bake_builder_file::prepare)];

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
];

const DATA_SOURCES: &[(&str, DataSourceFactory)] = &[("debootstrap", bake_datasource_debootstrap::prepare), ("null", bake_datasource_null::prepare)];

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

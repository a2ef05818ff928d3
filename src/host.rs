//! Facts about the machine the configuration runs on, which the files do not say: from
//! `[host]` in conflint.toml or the command line.

#[derive(Debug, Default, Clone)]
pub struct Host {
    /// Memory of the PHP host in bytes.
    pub memory: Option<u64>,
    pub nginx_user: Option<String>,
    /// The nginx that will load the configuration: version (`[nginx] version`, else
    /// `nginx -V`, else the newest release conflint knows), build and modules.
    pub nginx: crate::nginx::directives::Target,
}

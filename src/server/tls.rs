//! How the server speaks on its socket: plain HTTP on loopback or behind a TLS proxy, or TLS of
//! its own from a certificate and key in PEM files (rustls).

use std::net::SocketAddr;
use std::path::Path;

pub use axum_server::tls_rustls::RustlsConfig;

pub enum Transport {
    Plain,
    Tls(RustlsConfig),
}

impl Transport {
    pub fn scheme(&self) -> &'static str {
        match self {
            Transport::Plain => "http",
            Transport::Tls(_) => "https",
        }
    }
}

/// Reads the certificate chain and private key; every problem names the file.
pub async fn load(cert: &Path, key: &Path) -> Result<Transport, String> {
    for (what, path) in [("certificate", cert), ("key", key)] {
        if let Err(e) = std::fs::metadata(path) {
            return Err(format!(
                "cannot read the TLS {what} {}: {e}",
                path.display()
            ));
        }
    }
    RustlsConfig::from_pem_file(cert, key)
        .await
        .map(Transport::Tls)
        .map_err(|e| {
            format!(
                "cannot use the TLS certificate {} with the key {}: {e}",
                cert.display(),
                key.display()
            )
        })
}

/// Why listening here needs what was not given, if it does: plain HTTP beyond this machine
/// would carry tokens in the clear.
pub fn refusal(addr: SocketAddr, transport: &Transport, behind_proxy: bool) -> Option<String> {
    let plain = matches!(transport, Transport::Plain);
    (plain && !addr.ip().is_loopback() && !behind_proxy).then(|| {
        format!(
            "{addr} can be reached from other machines, and plain HTTP would carry tokens in the \
             clear: give --tls-cert and --tls-key, or --insecure-behind-proxy if a TLS proxy \
             stands in front of el-jefe"
        )
    })
}

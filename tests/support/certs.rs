//! A throwaway CA and a leaf certificate signed by it, made with the `openssl` CLI.
//!
//! Not one self-signed certificate: rustls rejects a `CA:TRUE` certificate used as a
//! server certificate (`CaUsedAsEndEntity`). Clients trust the CA through their own
//! configuration (an extra root for the account), never by turning verification off.

use super::{require_binary, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every name the test servers answer for.
pub const LEAF_SAN: &str = "DNS:localhost,DNS:upload.localhost,DNS:conference.localhost,\
                            DNS:example.test,IP:127.0.0.1";

pub struct Certs {
    /// The CA certificate, PEM: what a client adds as a trusted root.
    pub ca_pem: String,
    pub ca_path: PathBuf,
    /// The leaf certificate (CN=localhost) and its key, PEM files.
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

impl Certs {
    /// Writes `ca.crt`, `ca.key`, `localhost.crt` and `localhost.key` into `dir`.
    pub fn make(dir: &Path) -> Certs {
        Certs::make_leaf(dir, LEAF_SAN, "825")
    }

    /// Like [`Certs::make`], with the leaf's names `san` and its validity in `days`
    /// (`-1`: expired a day before it was issued).
    pub fn make_leaf(dir: &Path, san: &str, days: &str) -> Certs {
        let openssl = require_binary("openssl", "openssl");
        std::fs::create_dir_all(dir).expect("create the certificate folder");
        let ca_key = dir.join("ca.key");
        let ca_path = dir.join("ca.crt");
        let key_path = dir.join("localhost.key");
        let csr = dir.join("localhost.csr");
        let cert_path = dir.join("localhost.crt");
        let ext = dir.join("leaf.ext");

        // P-256 keys: as good as RSA here and much faster to make on a slow CI machine.
        let step = |args: &[&str]| {
            let mut cmd = Command::new(&openssl);
            cmd.args(args).current_dir(dir);
            if let Err(e) = run(&mut cmd) {
                panic!("making the test certificates failed: {e}");
            }
        };
        step(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=Loquat Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            path_str(&ca_key),
            "-out",
            path_str(&ca_path),
        ]);
        step(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            path_str(&key_path),
            "-out",
            path_str(&csr),
        ]);
        std::fs::write(
            &ext,
            format!(
                "subjectAltName={san}\n\
                 basicConstraints=critical,CA:FALSE\n\
                 keyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=serverAuth,clientAuth\n"
            ),
        )
        .expect("write the certificate extensions");
        let serial = format!("0x{}", uuid::Uuid::new_v4().simple());
        step(&[
            "x509",
            "-req",
            "-in",
            path_str(&csr),
            "-CA",
            path_str(&ca_path),
            "-CAkey",
            path_str(&ca_key),
            "-set_serial",
            &serial,
            "-days",
            days,
            "-extfile",
            path_str(&ext),
            "-out",
            path_str(&cert_path),
        ]);
        let ca_pem = std::fs::read_to_string(&ca_path).expect("read the CA certificate");
        Certs {
            ca_pem,
            ca_path,
            cert_path,
            key_path,
        }
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

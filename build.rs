//! Links libomemo-c (the Signal protocol for OMEMO, issue #17) through pkg-config:
//! Debian/Ubuntu `libomemo-c-dev`. See docs/omemo.md.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(e) = pkg_config::Config::new()
        .atleast_version("0.5")
        .probe("libomemo-c")
    {
        println!(
            "cargo:warning=libomemo-c was not found by pkg-config ({e}). \
             On Debian/Ubuntu: sudo apt-get install libomemo-c-dev pkg-config"
        );
        std::process::exit(1);
    }
}

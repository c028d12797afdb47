// The shim is luaenv itself, exec'd on every `lua` call: linked as a non-PIE executable it
// skips the start-up relocations a PIE needs (measured with benches/shim.sh).
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

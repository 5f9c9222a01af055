//! Lists each backend's migrations from its folder, so adding one is one
//! `.sql` file per backend: `src/store/{sqlite,postgres}/migrations/*.sql`
//! become `$OUT_DIR/{sqlite,postgres}_migrations.rs`, a `&[(name, sql)]`
//! in file-name order (the name is the file stem, as `schema_migrations`
//! records it), each `include_str!`-ed.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for backend in ["sqlite", "postgres"] {
        let dir = Path::new("src/store").join(backend).join("migrations");
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a readable migrations folder").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        let mut list = String::from("&[\n");
        for f in files {
            let name = f.file_stem().and_then(|s| s.to_str()).expect("UTF-8 name");
            let abs = std::fs::canonicalize(&f).expect("a migration file");
            writeln!(list, "    ({name:?}, include_str!({:?})),", abs.display()).unwrap();
        }
        list.push(']');
        std::fs::write(
            Path::new(&out).join(format!("{backend}_migrations.rs")),
            list,
        )
        .expect("OUT_DIR is writable");
    }
}

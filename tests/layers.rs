//! The layers of src/ (the map in src/lib.rs): each module imports only from the modules below it, and
//! nothing imports in a circle. Read from the source, no server needed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and what it may import from the crate (test code excluded).
const ALLOWED: &[(&str, &[&str])] = &[
    ("text", &[]),
    ("statement", &[]),
    ("report", &[]),
    ("setting", &["report"]),
    ("exit", &["report"]),
    ("analysis", &["report"]),
    ("files", &["exit"]),
    ("term", &["exit", "text"]),
    ("interrupt", &[]),
    ("wire", &[]),
    ("host", &["exit", "report", "setting"]),
    ("conninfo", &["wire"]),
    (
        "db",
        &[
            "conninfo",
            "exit",
            "host",
            "report",
            "statement",
            "term",
            "text",
            "wire",
        ],
    ),
    ("activity", &["analysis", "db", "report", "statement"]),
    ("pgbouncer", &["conninfo", "report", "term"]),
    ("fleet", &["conninfo", "db", "exit", "report"]),
    ("sandbox", &["conninfo", "wire"]),
    ("render", &["files", "report", "text"]),
    (
        "commands",
        &[
            "activity",
            "analysis",
            "conninfo",
            "db",
            "exit",
            "files",
            "fleet",
            "host",
            "interrupt",
            "pgbouncer",
            "report",
            "sandbox",
            "setting",
            "statement",
            "text",
        ],
    ),
    // cli converts its types into the commands' requests and the model's option structs (and render's
    // colour choice), and generates completions and man pages from its own definitions.
    (
        "cli",
        &[
            "activity", "analysis", "commands", "db", "exit", "render", "report",
        ],
    ),
    ("tui", &["render", "report", "text"]),
    // lib's sequences: everything but lib itself.
    (
        "run",
        &[
            "activity",
            "cli",
            "commands",
            "db",
            "exit",
            "fleet",
            "interrupt",
            "render",
            "report",
            "term",
            "tui",
        ],
    ),
];

/// The top-level module a source file belongs to (`src/commands/kill/plan.rs` → `commands`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The source without its `#[cfg(test)]` items (test code may reach anywhere).
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        // The item ends where its first brace closes (or at its semicolon).
        let mut depth = 0usize;
        let mut end = after.len();
        for (j, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = j + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn imports(text: &str) -> BTreeSet<String> {
    // Comments (docs that link elsewhere) import nothing.
    let code: String = without_tests(text)
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let m = module_of(&src, &f);
        if m == "lib" || m == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let deps = g.entry(m.clone()).or_default();
        deps.extend(imports(&text).into_iter().filter(|d| *d != m));
    }
    g
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let mut wrong = Vec::new();
    for (m, deps) in graph() {
        let Some(ok) = allowed.get(m.as_str()) else {
            wrong.push(format!(
                "{m}: a module the map does not know (add it to ALLOWED and the map)"
            ));
            continue;
        };
        for d in deps {
            if !ok.contains(d.as_str()) {
                wrong.push(format!("{m} imports {d}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_module_imports_in_a_circle() {
    let g = graph();
    // Depth-first search with colours: a grey node reached again closes a circle.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(1) => {
                let start = path.iter().position(|p| p == n).unwrap();
                let mut c = path[start..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if let Some(c) = visit(n, &g, &mut state, &mut Vec::new()) {
            panic!("a circle of imports: {}", c.join(" -> "));
        }
    }
}

/// `super::` that climbs out of a file's top-level module reaches the crate root without naming
/// `crate::`, past the check above: the path of `src/commands/kill/plan.rs` is commands::kill::plan,
/// so `super::super::` is as far as it may go.
#[test]
fn no_super_path_leaves_its_room() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut wrong = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let mut depth = rel.components().count();
        if rel.file_name().is_some_and(|n| n == "mod.rs") {
            depth -= 1;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in without_tests(&text).lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (i, _) in line.match_indices("super::") {
                if i >= 2 && &line[i - 2..i] == "::" {
                    continue; // counted from its first `super::`
                }
                let mut climbs = 0;
                while line[i + climbs * 7..].starts_with("super::") {
                    climbs += 1;
                }
                if climbs >= depth {
                    wrong.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "super:: paths that leave their top-level module (name crate:: instead):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn only_render_term_and_main_print() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut wrong = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().to_string();
        if rel.starts_with("render/") || ["term.rs", "tui.rs", "main.rs"].contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = without_tests(&text);
        for (n, line) in code.lines().enumerate() {
            let l = line.trim_start();
            if l.starts_with("//") {
                continue;
            }
            // Asking whether stdout is a terminal writes nothing.
            let l = l.replace("io::stdout().is_terminal()", "");
            if [
                "println!",
                "eprintln!",
                "print!",
                "eprint!",
                "process::exit",
                "io::stdout()",
                "io::stderr()",
            ]
            .iter()
            .any(|p| l.contains(p))
            {
                wrong.push(format!("{rel}:{}: {}", n + 1, l));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "printing outside render, term and main:\n{}",
        wrong.join("\n")
    );
}

/// A session's state is spelled by `report::State` alone: no other code of src/ (tests excluded) holds a
/// state's PostgreSQL spelling or its JSON key as a string of its own. SQL files and the listed words
/// that only coincide with a state's spelling are not states.
#[test]
fn states_are_spelled_only_by_report_state() {
    const SPELLINGS: [&str; 11] = [
        "active",
        "idle",
        "idle in transaction",
        "idle in transaction (aborted)",
        "fastpath function call",
        "disabled",
        "starting",
        "idle_in_transaction",
        "idle_in_transaction_aborted",
        "fastpath_function_call",
        "fastpath",
    ];
    // (file, word): what the word is there.
    const NOT_STATES: &[(&str, &str)] = &[
        // `--state`'s own spelling of its values.
        ("cli/common.rs", "active"),
        ("cli/common.rs", "idle"),
        ("cli/common.rs", "fastpath"),
        ("cli/common.rs", "disabled"),
        // Names of check's measurements (performance data and JSON).
        ("commands/check.rs", "active"),
        ("commands/check.rs", "idle"),
        ("commands/check.rs", "idle_in_transaction"),
        // The id of an advise finding.
        ("commands/advise/idle_transaction.rs", "idle_in_transaction"),
    ];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut wrong = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().to_string();
        if rel == "report/state.rs" {
            continue;
        }
        let code = without_tests(&std::fs::read_to_string(&f).unwrap());
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for word in SPELLINGS {
                let literal = format!("\"{word}\"");
                if line.contains(&literal) && !NOT_STATES.contains(&(rel.as_str(), word)) {
                    wrong.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "a state spelled outside report::State (use State and its as_pg/key):\n{}",
        wrong.join("\n")
    );
}

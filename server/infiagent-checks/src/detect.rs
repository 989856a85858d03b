//! How a folder builds and tests, read from its manifests: Cargo, npm/pnpm/yarn,
//! Go, Python (pytest, with uv or poetry), Maven, Gradle, Make, CMake.

use std::path::Path;

use serde::Serialize;

use crate::config::{ChecksConfig, FolderChecks};

/// What a check verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// The code builds (or type-checks).
    Build,
    /// The tests pass.
    Test,
    /// The linter is content.
    Lint,
}

impl CheckKind {
    /// Its name, as in `[checks]`.
    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Build => "build",
            CheckKind::Test => "test",
            CheckKind::Lint => "lint",
        }
    }
}

/// One check of a folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What it verifies.
    pub kind: CheckKind,
    /// The folder it runs in, workspace-relative (`""`: the root).
    pub folder: String,
    /// The bash command line.
    pub command: String,
    /// Where the command comes from: `[checks]`, or the manifest it was detected from.
    pub origin: String,
    /// The manifest that defines the project (where a failure without a file is
    /// reported), workspace-relative.
    pub manifest: String,
}

/// The checks of the workspace at `root`: for the root and every folder of
/// `[checks.folders]`, the configured commands, else the detected ones.
pub fn plan(root: &Path, config: &ChecksConfig) -> Vec<Check> {
    let mut folders: Vec<&str> = vec![""];
    folders.extend(config.folders.keys().map(String::as_str));
    let mut checks = Vec::new();
    for folder in folders {
        let configured = config.of_folder(folder);
        let detected = detect(&root.join(folder));
        let manifest = detected
            .as_ref()
            .map(|project| join(folder, project.manifest))
            .unwrap_or_else(|| join(folder, "."));
        for kind in [CheckKind::Build, CheckKind::Test, CheckKind::Lint] {
            let (command, origin) = match (configured_command(&configured, kind), &detected) {
                (Some(command), _) => (command, "[checks]".to_string()),
                (None, Some(project)) => match project.command(kind) {
                    Some(command) => (command, project.manifest.to_string()),
                    None => continue,
                },
                (None, None) => continue,
            };
            checks.push(Check {
                kind,
                folder: folder.to_string(),
                command,
                origin,
                manifest: manifest.clone(),
            });
        }
    }
    checks
}

fn configured_command(folder: &FolderChecks, kind: CheckKind) -> Option<String> {
    let command = match kind {
        CheckKind::Build => &folder.build,
        CheckKind::Test => &folder.test,
        CheckKind::Lint => &folder.lint,
    };
    command.clone().filter(|command| !command.trim().is_empty())
}

/// The workspace-relative path of `rest` inside `folder` (`""` is the root;
/// `rest` `""` or `"."` is the folder itself).
pub(crate) fn join(folder: &str, rest: &str) -> String {
    match (folder, rest) {
        ("", rest) => rest.to_string(),
        (folder, "" | ".") => folder.to_string(),
        (folder, rest) => format!("{folder}/{rest}"),
    }
}

/// A project found in a folder: its manifest and its commands.
struct Project {
    manifest: &'static str,
    build: Option<String>,
    test: Option<String>,
    lint: Option<String>,
}

impl Project {
    fn command(&self, kind: CheckKind) -> Option<String> {
        match kind {
            CheckKind::Build => self.build.clone(),
            CheckKind::Test => self.test.clone(),
            CheckKind::Lint => self.lint.clone(),
        }
    }
}

/// The first kind of project `folder` holds, by its manifest.
fn detect(folder: &Path) -> Option<Project> {
    let has = |name: &str| folder.join(name).exists();
    let project = |manifest, build: Option<&str>, test: Option<&str>, lint: Option<&str>| Project {
        manifest,
        build: build.map(String::from),
        test: test.map(String::from),
        lint: lint.map(String::from),
    };
    if has("Cargo.toml") {
        return Some(project(
            "Cargo.toml",
            Some("cargo check --all-targets --message-format=json"),
            Some("cargo test --message-format=json"),
            None,
        ));
    }
    if has("package.json") {
        return Some(node_project(folder));
    }
    if has("go.mod") {
        return Some(project(
            "go.mod",
            Some("go build ./..."),
            Some("go test -json ./..."),
            Some("go vet ./..."),
        ));
    }
    if let Some(manifest) = ["pyproject.toml", "setup.py", "setup.cfg", "pytest.ini"]
        .into_iter()
        .find(|name| has(name))
    {
        let runner = if has("uv.lock") {
            "uv run "
        } else if has("poetry.lock") {
            "poetry run "
        } else {
            ""
        };
        let test = format!("{runner}python -m pytest -q --tb=short -p no:cacheprovider");
        return Some(Project {
            manifest,
            build: None,
            test: Some(test),
            lint: None,
        });
    }
    if has("pom.xml") {
        return Some(project(
            "pom.xml",
            Some("mvn -q -B compile"),
            Some("mvn -q -B test"),
            None,
        ));
    }
    if let Some(manifest) = ["build.gradle", "build.gradle.kts"]
        .into_iter()
        .find(|name| has(name))
    {
        let gradle = if has("gradlew") {
            "./gradlew"
        } else {
            "gradle"
        };
        return Some(Project {
            manifest,
            build: Some(format!("{gradle} --quiet assemble")),
            test: Some(format!("{gradle} --quiet test")),
            lint: None,
        });
    }
    if has("CMakeLists.txt") {
        return Some(project(
            "CMakeLists.txt",
            Some("cmake -S . -B build && cmake --build build"),
            Some(
                "cmake -S . -B build && cmake --build build && ctest --test-dir build --output-on-failure",
            ),
            None,
        ));
    }
    if has("Makefile") {
        let makefile = std::fs::read_to_string(folder.join("Makefile")).unwrap_or_default();
        let has_target = |target: &str| {
            makefile
                .lines()
                .any(|line| line.starts_with(&format!("{target}:")))
        };
        return Some(Project {
            manifest: "Makefile",
            build: Some("make".into()),
            test: has_target("test").then(|| "make test".into()),
            lint: has_target("lint").then(|| "make lint".into()),
        });
    }
    None
}

/// The scripts of `package.json` (`build`, `test`, `lint`) with the package manager
/// its lock file names, and `tsc` for a TypeScript project without a build script.
fn node_project(folder: &Path) -> Project {
    let manager = if folder.join("pnpm-lock.yaml").exists() {
        "pnpm"
    } else if folder.join("yarn.lock").exists() {
        "yarn"
    } else {
        "npm"
    };
    let manifest: serde_json::Value = std::fs::read_to_string(folder.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let script = |name: &str| {
        manifest["scripts"][name]
            .as_str()
            .filter(|script| !script.contains("no test specified"))
            .map(|_| match (manager, name) {
                ("npm", "test") => "npm test".to_string(),
                ("npm", name) => format!("npm run {name}"),
                (manager, name) => format!("{manager} {name}"),
            })
    };
    let typescript = folder.join("tsconfig.json").exists();
    Project {
        manifest: "package.json",
        build: script("build")
            .or_else(|| typescript.then(|| "npx tsc --noEmit --pretty false".into())),
        test: script("test"),
        lint: script("lint"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(root: &Path, config: &ChecksConfig) -> Vec<String> {
        plan(root, config)
            .into_iter()
            .map(|check| {
                format!(
                    "{} [{}] {} ({})",
                    check.kind.name(),
                    check.folder,
                    check.command,
                    check.origin
                )
            })
            .collect()
    }

    /// Files of a folder, and the checks expected of it.
    type Case = (
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
    );

    #[test]
    fn detected_by_manifest() {
        let cases: [Case; 9] = [
            (
                &[("Cargo.toml", "[package]\nname = \"x\"\n")],
                &[
                    "build [] cargo check --all-targets --message-format=json (Cargo.toml)",
                    "test [] cargo test --message-format=json (Cargo.toml)",
                ],
            ),
            (
                &[
                    (
                        "package.json",
                        r#"{"scripts": {"test": "node --test", "lint": "eslint ."}}"#,
                    ),
                    ("pnpm-lock.yaml", ""),
                ],
                &[
                    "test [] pnpm test (package.json)",
                    "lint [] pnpm lint (package.json)",
                ],
            ),
            (
                &[
                    (
                        "package.json",
                        r#"{"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}}"#,
                    ),
                    ("tsconfig.json", "{}"),
                ],
                &["build [] npx tsc --noEmit --pretty false (package.json)"],
            ),
            (
                &[
                    ("pyproject.toml", "[project]\nname = \"x\"\n"),
                    ("uv.lock", ""),
                ],
                &[
                    "test [] uv run python -m pytest -q --tb=short -p no:cacheprovider (pyproject.toml)",
                ],
            ),
            (
                &[("Makefile", "all:\n\tcc x.c\ntest: all\n\t./a.out\n")],
                &["build [] make (Makefile)", "test [] make test (Makefile)"],
            ),
            (
                &[("go.mod", "module example.com/x\n")],
                &[
                    "build [] go build ./... (go.mod)",
                    "test [] go test -json ./... (go.mod)",
                    "lint [] go vet ./... (go.mod)",
                ],
            ),
            (
                &[("pom.xml", "<project/>")],
                &[
                    "build [] mvn -q -B compile (pom.xml)",
                    "test [] mvn -q -B test (pom.xml)",
                ],
            ),
            (
                &[("build.gradle.kts", ""), ("gradlew", "")],
                &[
                    "build [] ./gradlew --quiet assemble (build.gradle.kts)",
                    "test [] ./gradlew --quiet test (build.gradle.kts)",
                ],
            ),
            (
                &[("CMakeLists.txt", "project(x)\n")],
                &[
                    "build [] cmake -S . -B build && cmake --build build (CMakeLists.txt)",
                    "test [] cmake -S . -B build && cmake --build build && ctest --test-dir build --output-on-failure (CMakeLists.txt)",
                ],
            ),
        ];
        for (files, expected) in cases {
            let root = tempfile::tempdir().unwrap();
            for (name, text) in files {
                std::fs::write(root.path().join(name), text).unwrap();
            }
            assert_eq!(
                commands(root.path(), &ChecksConfig::default()),
                expected,
                "{files:?}"
            );
        }
        let empty = tempfile::tempdir().unwrap();
        assert!(plan(empty.path(), &ChecksConfig::default()).is_empty());
    }

    #[test]
    fn configured_commands_win_and_folders_add_their_own() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("Cargo.toml"), "").unwrap();
        std::fs::create_dir_all(root.path().join("web")).unwrap();
        std::fs::write(
            root.path().join("web/package.json"),
            r#"{"scripts": {"test": "vitest run"}}"#,
        )
        .unwrap();
        let config = ChecksConfig {
            test: Some("cargo nextest run".into()),
            folders: [("web".to_string(), FolderChecks::default())].into(),
            ..ChecksConfig::default()
        };
        assert_eq!(
            commands(root.path(), &config),
            [
                "build [] cargo check --all-targets --message-format=json (Cargo.toml)",
                "test [] cargo nextest run ([checks])",
                "test [web] npm test (package.json)",
            ]
        );
        let checks = plan(root.path(), &config);
        assert_eq!(checks[2].manifest, "web/package.json");
    }
}

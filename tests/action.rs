//! `action.yml`, run the way GitHub's runner runs a composite action: each `run:` step as
//! `bash --noprofile --norc -eo pipefail SCRIPT` in the workspace, `${{ inputs.* }}` expanded
//! in `env:` only, `$GITHUB_PATH` additions on the PATH of later steps, and the files behind
//! `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY` read afterwards. The install step meets either
//! the binary this test suite built, already on PATH, or a stand-in `cargo` that records how
//! it was called and installs that same binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> Yaml {
    let text = std::fs::read_to_string(manifest().join("action.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn steps(action: &Yaml) -> &Vec<Yaml> {
    action["runs"]["steps"].as_vec().unwrap()
}

struct StepRun {
    name: String,
    code: i32,
    stdout: String,
    stderr: String,
}

/// One use of the action in a job: a workspace holding a repository with the demo tree.
struct Job {
    dir: tempfile::TempDir,
    inputs: HashMap<String, String>,
    /// conflint is on PATH before the action runs (a cached install).
    preinstalled: bool,
}

impl Job {
    fn new() -> Job {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["workspace/.git", "runner/temp", "home", "cargo-home", "shim"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let ok = Command::new("cp").arg("-a").arg(manifest().join("fixtures/demo")).arg(dir.path().join("workspace/demo")).status().unwrap();
        assert!(ok.success());
        let cargo = dir.path().join("shim/cargo");
        let log = dir.path().join("cargo-args");
        let built = env!("CARGO_BIN_EXE_conflint");
        std::fs::write(
            &cargo,
            format!("#!/bin/bash\nprintf '%s\\n' \"$@\" > '{}'\nmkdir -p \"$CARGO_HOME/bin\"\ncp '{built}' \"$CARGO_HOME/bin/conflint\"\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        Job { dir, inputs: HashMap::new(), preinstalled: true }
    }

    fn with(mut self, input: &str, value: &str) -> Job {
        self.inputs.insert(input.into(), value.into());
        self
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_default()
    }

    /// `${{ inputs.NAME }}`, the input's value or its default; any other expression is a
    /// failure here, so the action cannot grow expressions this emulation does not check.
    fn expand(&self, action: &Yaml, value: &str) -> String {
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed expression") + start;
            let expr = rest[start + 3..end].trim();
            let name = expr.strip_prefix("inputs.").unwrap_or_else(|| panic!("unexpected expression `{expr}` in env"));
            let declared = &action["inputs"][name];
            assert!(!declared.is_badvalue(), "input `{name}` is not declared");
            out.push_str(self.inputs.get(name).map_or_else(|| declared["default"].as_str().unwrap(), String::as_str));
            rest = &rest[end + 2..];
        }
        out + rest
    }

    /// Run the steps in order until one fails, as the runner does.
    fn run(&self) -> Vec<StepRun> {
        let action = action();
        let files = ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH", "GITHUB_ENV"];
        for f in files {
            std::fs::write(self.path(&format!("runner/{f}")), "").unwrap();
        }
        let system = "/usr/local/bin:/usr/bin:/bin";
        let mut front = vec![self.path("shim").display().to_string()];
        if self.preinstalled {
            front.insert(0, Path::new(env!("CARGO_BIN_EXE_conflint")).parent().unwrap().display().to_string());
        }
        let mut runs = Vec::new();
        for (i, step) in steps(&action).iter().enumerate() {
            assert_eq!(step["shell"].as_str(), Some("bash"));
            let script = self.path(&format!("runner/temp/step-{i}.sh"));
            std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
            // Each GITHUB_PATH line goes in front of the PATH of the steps after it.
            let added: Vec<String> = self.read("runner/GITHUB_PATH").lines().rev().map(String::from).collect();
            let path = added.iter().chain(&front).cloned().chain([system.to_string()]).collect::<Vec<_>>().join(":");
            let mut cmd = Command::new("/bin/bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"]).arg(&script).current_dir(self.path("workspace")).env_clear();
            cmd.env("PATH", path).env("HOME", self.path("home")).env("CARGO_HOME", self.path("cargo-home")).env("CI", "true").env("GITHUB_ACTIONS", "true");
            cmd.env("GITHUB_ACTION_PATH", manifest()).env("GITHUB_WORKSPACE", self.path("workspace")).env("RUNNER_TEMP", self.path("runner/temp"));
            for f in files {
                cmd.env(f, self.path(&format!("runner/{f}")));
            }
            for (k, v) in step["env"].as_hash().into_iter().flatten() {
                cmd.env(k.as_str().unwrap(), self.expand(&action, v.as_str().unwrap()));
            }
            let o = cmd.output().unwrap();
            let run = StepRun {
                name: step["name"].as_str().unwrap().to_string(),
                code: o.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            };
            let failed = run.code != 0;
            runs.push(run);
            if failed {
                break;
            }
        }
        runs
    }

    fn cargo_args(&self) -> Vec<String> {
        self.read("cargo-args").lines().map(String::from).collect()
    }
}

fn last(runs: &[StepRun]) -> &StepRun {
    runs.last().unwrap()
}

#[test]
fn inputs_reach_scripts_only_through_env() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let mut used = Vec::new();
    for step in steps(&action) {
        let run = step["run"].as_str().unwrap();
        assert!(!run.contains("${{"), "an expression inside `run:` of `{}` is a script injection", step["name"].as_str().unwrap());
        for (_, v) in step["env"].as_hash().into_iter().flatten() {
            let v = v.as_str().unwrap();
            used.extend(v.trim().strip_prefix("${{ inputs.").and_then(|s| s.strip_suffix(" }}")).map(String::from));
        }
    }
    used.sort();
    assert_eq!(used, ["args", "fail-on", "paths", "sarif-file", "version"]);
    let declared: Vec<&str> = action["inputs"].as_hash().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(declared, ["args", "paths", "version", "sarif-file", "fail-on"]);
    // The output is the run step's.
    assert_eq!(action["outputs"]["exit-code"]["value"].as_str(), Some("${{ steps.run.outputs.exit-code }}"));
    assert!(steps(&action).iter().any(|s| s["id"].as_str() == Some("run")));
}

#[test]
fn annotations_a_sarif_file_and_a_step_summary() {
    let job = Job::new().with("paths", "demo").with("sarif-file", "reports/conflint.sarif");
    let runs = job.run();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].code, 0, "{}", runs[0].stderr);
    let installed = format!("conflint {} is already installed", env!("CARGO_PKG_VERSION"));
    assert!(runs[0].stdout.contains(&installed), "{}", runs[0].stdout);
    assert!(job.cargo_args().is_empty(), "nothing was built");

    let run = last(&runs);
    assert_eq!(run.name, "Run conflint");
    assert_eq!(run.code, 1, "findings fail the step by default: {}", run.stderr);
    let annotations: Vec<&str> = run.stdout.lines().collect();
    assert!(annotations.iter().all(|l| l.starts_with("::")), "{}", run.stdout);
    assert!(annotations[0].starts_with("::warning file=demo/nginx/nginx.conf,line=22,col=26,endLine=22,endColumn=29,title=NGX101 fastcgi-read-timeout-low::"), "{}", annotations[0]);
    assert!(annotations.iter().any(|l| l.starts_with("::error file=demo/nginx/sites-available/shop.conf,") && l.contains("title=XFP001 ")));
    assert!(annotations.iter().any(|l| l.starts_with("::notice ")));
    assert!(run.stderr.contains("Found 16 problems"), "the summary goes to the log, not among the annotations: {}", run.stderr);

    let sarif: serde_json::Value = serde_json::from_str(&job.read("workspace/reports/conflint.sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), annotations.len());
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "demo/nginx/nginx.conf");

    assert_eq!(job.read("runner/GITHUB_OUTPUT"), "exit-code=1\n");
    let summary = job.read("runner/GITHUB_STEP_SUMMARY");
    assert!(summary.starts_with("### conflint\n\n| findings | rule | name |\n|---:|---|---|\n"), "{summary}");
    assert!(summary.contains("| 2 | FPM101 | pm-max-children-undersized |\n"), "{summary}");
    let rows = summary.lines().skip(4).filter(|l| l.starts_with("| ")).count();
    assert_eq!(rows, 13, "one row per rule: {summary}");
}

#[test]
fn fail_on_and_args_decide_the_step_status() {
    let only_warnings = |fail_on: &str| Job::new().with("paths", "demo").with("args", "--select NGX101\t--ignore NGX0").with("fail-on", fail_on).run();
    let runs = only_warnings("error");
    assert_eq!(last(&runs).code, 0, "{}", last(&runs).stderr);
    assert_eq!(last(&runs).stdout.lines().count(), 1, "args reach conflint: only NGX101");
    assert_eq!(last(&only_warnings("warning")).code, 1);

    let job = Job::new().with("paths", "demo").with("fail-on", "never");
    let runs = job.run();
    assert_eq!(last(&runs).code, 0);
    assert_eq!(last(&runs).stdout.lines().count(), 16, "annotations are still shown");
    assert_eq!(job.read("runner/GITHUB_OUTPUT"), "exit-code=0\n");

    let runs = Job::new().with("fail-on", "sometimes").run();
    assert_eq!(last(&runs).code, 2);
    assert!(last(&runs).stdout.starts_with("::error title=conflint action::input 'fail-on' must be"));
}

#[test]
fn install_builds_the_actions_own_source_or_a_crates_io_release() {
    let mut job = Job::new().with("paths", "demo/php");
    job.preinstalled = false;
    let runs = job.run();
    assert_eq!(job.cargo_args(), ["install", "--locked", "--path", manifest().to_str().unwrap()]);
    assert_eq!(job.read("runner/GITHUB_PATH"), format!("{}/bin\n", job.path("cargo-home").display()));
    // The next step found the installed binary through GITHUB_PATH.
    assert_eq!(last(&runs).code, 1, "{}", last(&runs).stderr);
    assert!(last(&runs).stdout.starts_with("::"));

    let mut job = Job::new().with("version", "0.3.0");
    job.preinstalled = false;
    job.run();
    assert_eq!(job.cargo_args(), ["install", "--locked", "conflint", "--version", "0.3.0"]);

    // A preinstalled conflint of another version does not count.
    let job = Job::new().with("version", "0.3.0");
    job.run();
    assert_eq!(job.cargo_args(), ["install", "--locked", "conflint", "--version", "0.3.0"]);

    let runs = Job::new().with("version", "0.3.0 --git https://example.invalid/x").run();
    assert_eq!((runs.len(), runs[0].code), (1, 2));
    assert!(runs[0].stdout.starts_with("::error title=conflint action::input 'version' must be"));
}

#[test]
fn hostile_inputs_stay_data() {
    let witness = tempfile::tempdir().unwrap();
    let marker = |n: u32| witness.path().join(format!("pwned{n}"));
    let touch = |n: u32| format!("$(touch {})", marker(n).display());
    let job = Job::new()
        .with("paths", &format!("{} `touch {}` ;touch {}", touch(1), marker(2).display(), marker(3).display()))
        .with("args", &touch(4))
        .with("sarif-file", &format!("{}.sarif", touch(5)))
        .with("version", &touch(6));
    let runs = job.run();
    assert_eq!((runs.len(), last(&runs).code), (1, 2), "the version is refused");
    let runs = job.with("version", "").run();
    // The words are file names to conflint, which cannot read them.
    assert_eq!(last(&runs).code, 2, "{}", last(&runs).stderr);
    assert!(last(&runs).stderr.contains("$(touch"), "{}", last(&runs).stderr);
    for n in 1..=6 {
        assert!(!marker(n).exists(), "input {n} was executed");
    }
}

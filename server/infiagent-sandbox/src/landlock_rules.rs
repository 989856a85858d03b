//! The Landlock ruleset of a launch: read the allow-list, write the writable roots,
//! no TCP unless the network is allowed, no signals or abstract sockets outside.

use landlock::{
    ABI, Access, AccessFs, AccessNet, LandlockStatus, Ruleset, RulesetAttr, RulesetCreatedAttr,
    Scope, path_beneath_rules,
};

use crate::launcher::LaunchSpec;
use crate::support::Rule;

/// The newest ABI whose rules the policy uses (scopes came with ABI 6).
const TARGET: ABI = ABI::V6;

/// Restricts this process (and every process it becomes or starts) to `spec`.
/// Returns what the kernel offers and which rules it enforces; an error means the
/// ruleset could not be built, and the launcher must not go on.
pub(crate) fn restrict(spec: &LaunchSpec) -> Result<(String, Vec<Rule>), String> {
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(TARGET))
        .map_err(|error| error.to_string())?;
    if !spec.network {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(TARGET))
            .map_err(|error| error.to_string())?;
    }
    let status = ruleset
        .scope(Scope::from_all(TARGET))
        .and_then(|ruleset| ruleset.create())
        .and_then(|ruleset| {
            ruleset.add_rules(path_beneath_rules(&spec.read, AccessFs::from_read(TARGET)))
        })
        .and_then(|ruleset| {
            ruleset.add_rules(path_beneath_rules(&spec.write, AccessFs::from_all(TARGET)))
        })
        .and_then(|ruleset| ruleset.restrict_self())
        .map_err(|error| format!("cannot set up the Landlock rules: {error}"))?;
    let (kernel, abi) = match status.landlock {
        LandlockStatus::Available { effective_abi, .. } => {
            let abi = effective_abi as i32;
            (format!("Landlock ABI {abi}"), abi)
        }
        LandlockStatus::NotEnabled => ("Landlock is built in but not enabled at boot".into(), 0),
        LandlockStatus::NotImplemented => ("this kernel has no Landlock".into(), 0),
    };
    Ok((kernel, rules(abi, spec.network)))
}

/// The Landlock rules an ABI enforces.
fn rules(abi: i32, network_allowed: bool) -> Vec<Rule> {
    let rule = |name: &str, since: i32| {
        let enforced = abi >= since;
        let detail = if enforced {
            format!("Landlock (ABI {since}+)")
        } else {
            format!("needs Landlock ABI {since}")
        };
        Rule::new(name, enforced, detail)
    };
    let mut rules = vec![
        rule("writes outside the workspace and the writable roots", 1),
        rule("reads of denied paths (deny_read)", 1),
        rule("links and renames out of the writable roots", 2),
        rule("truncation of files outside the writable roots", 3),
    ];
    if network_allowed {
        rules.push(Rule::new(
            "TCP connections",
            true,
            "allowed by the policy for this process",
        ));
    } else {
        rules.push(rule("TCP connections", 4));
    }
    rules.push(rule("device ioctls", 5));
    rules.push(rule(
        "signals and abstract sockets to processes outside the sandbox",
        6,
    ));
    rules
}

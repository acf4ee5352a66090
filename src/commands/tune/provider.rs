//! `tune set/reset --system` on a managed platform: ALTER SYSTEM is refused there, so pgconn sends
//! nothing that changes the server and prints the provider's command sequence instead (JSON
//! `provider_commands`). Values are in the setting's base unit (pg_settings.unit: `5min` of a ms setting
//! is `300000`), as the providers' APIs take them. Identifiers come from the host name where the
//! provider's DNS carries them, else a visible placeholder (`<instance-name>`), never a guess. Every
//! value and identifier is shell-quoted.
//!
//! Pure: the plan brings the changes, the connection the host name, the facts the major version.

use crate::report::platform::Platform;
use crate::report::shell_quote;
use crate::report::tune::ProviderCommand;

/// RDS takes at most 20 parameters per modify-db-parameter-group call (AWS CLI reference).
pub const RDS_MAX_PARAMETERS: usize = 20;

/// One setting to change at the provider: its value in the setting's base unit (None: back to the
/// provider's default), and whether the server reads it only at start (pg_settings.context =
/// 'postmaster').
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderChange {
    pub name: String,
    pub value: Option<String>,
    /// What was typed (`5min`), for the `--role` form pgconn can run itself.
    pub input: Option<String>,
    pub restart: bool,
}

/// What the provider's commands need and cannot be read from the server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderInput<'a> {
    /// The host name connected to (None for a socket or an address).
    pub host: Option<&'a str>,
    /// The server's major version (15 for 15.x), for the parameter-group family.
    pub major: i32,
    /// DBInstanceClassMemory in bytes, when the user gave it: RDS's max_connections default.
    pub instance_memory: Option<u64>,
}

/// The sequence, and what the user must know before running it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderPlan {
    pub commands: Vec<ProviderCommand>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    /// Why no command can be printed (a value a command line cannot carry as it is): the caller refuses.
    pub refused: Option<String>,
}

/// A value in the setting's unit as providers take it: an integer without `.0`, else as is.
pub fn base_value(base: Option<f64>, normalised: &str) -> String {
    match base {
        Some(b) if b.is_finite() && b.fract() == 0.0 && b.abs() < 9.0e15 => format!("{}", b as i64),
        Some(b) if b.is_finite() => format!("{b}"),
        _ => normalised.to_string(),
    }
}

/// A DNS label as the provider names its resources: letters, digits, hyphens.
pub(crate) fn label_ok(l: &str) -> bool {
    !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The labels before `suffix` (lower-case), when the host ends with it at a label boundary.
fn labels_before<'h>(host: &'h str, suffix: &str) -> Option<Vec<&'h str>> {
    let h = host.trim().trim_end_matches('.');
    if h.len() > 253 || !h.is_ascii() {
        return None;
    }
    let n = h.len().checked_sub(suffix.len() + 1)?;
    if !h[n + 1..].eq_ignore_ascii_case(suffix) || h.as_bytes()[n] != b'.' {
        return None;
    }
    let labels: Vec<&str> = h[..n].split('.').collect();
    labels.iter().all(|l| label_ok(l)).then_some(labels)
}

/// What the host name tells: RDS `ID.HASH.REGION.rds.amazonaws.com` (Aurora's cluster endpoint has a
/// `cluster-` second label), Azure `SERVER.postgres.database.azure.com`, Supabase `db.REF.supabase.co`,
/// Neon `ENDPOINT[-pooler].REGION[.aws].neon.tech`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostIds {
    /// RDS DB instance identifier, or Aurora's cluster identifier on a cluster endpoint.
    pub aws_id: Option<String>,
    /// True when `aws_id` is an Aurora cluster's (from a `cluster-` endpoint).
    pub aws_cluster: bool,
    pub aws_region: Option<String>,
    pub azure_server: Option<String>,
    pub supabase_ref: Option<String>,
    pub neon_endpoint: Option<String>,
}

pub fn host_ids(host: Option<&str>) -> HostIds {
    let mut ids = HostIds::default();
    let Some(host) = host else { return ids };
    let lower = host.to_ascii_lowercase();
    if let Some(l) = labels_before(&lower, "rds.amazonaws.com") {
        if l.len() == 3 {
            ids.aws_cluster = l[1].starts_with("cluster-");
            ids.aws_id = Some(l[0].to_string());
            ids.aws_region = Some(l[2].to_string());
        }
    } else if let Some(l) = labels_before(&lower, "postgres.database.azure.com") {
        if l.len() == 1 {
            ids.azure_server = Some(l[0].to_string());
        }
    } else if let Some(l) = labels_before(&lower, "supabase.co") {
        if l.len() == 2 && l[0] == "db" {
            ids.supabase_ref = Some(l[1].to_string());
        }
    } else if let Some(l) = labels_before(&lower, "neon.tech") {
        if l.len() >= 2 && l[0].starts_with("ep-") {
            ids.neon_endpoint = Some(l[0].trim_end_matches("-pooler").to_string());
        }
    }
    ids
}

/// The identifier, or the placeholder the user fills in; quoted either way.
fn id(v: &Option<String>, placeholder: &str) -> String {
    shell_quote(v.as_deref().unwrap_or(placeholder))
}

struct Steps(Vec<ProviderCommand>);

impl Steps {
    fn push(&mut self, command: String, why: impl Into<String>) {
        let step = self.0.len() + 1;
        self.0.push(ProviderCommand {
            step,
            command,
            why: why.into(),
        });
    }
}

/// The provider's commands for these changes (all `--system`).
pub fn commands(
    platform: Platform,
    changes: &[ProviderChange],
    input: &ProviderInput,
) -> ProviderPlan {
    let ids = host_ids(input.host);
    let mut plan = ProviderPlan::default();
    let mut steps = Steps(Vec::new());
    if changes.is_empty() {
        return plan;
    }
    // A control character (a newline, an escape) would be printed escaped for people and so differ from
    // the value; no provider console value needs one.
    if let Some(c) = changes.iter().find(|c| {
        c.value
            .as_deref()
            .is_some_and(|v| v.chars().any(char::is_control))
    }) {
        plan.refused = Some(format!(
            "the value of {} holds a control character (a newline, a tab, an escape): no provider command is \
             printed for it; set it in the provider's console",
            c.name
        ));
        return plan;
    }
    match platform {
        Platform::AwsRds => aws_instance(&mut steps, &mut plan, changes, &ids, input, "postgres"),
        Platform::AwsAurora => aurora(&mut steps, &mut plan, changes, &ids, input),
        Platform::CloudSql => cloud_sql(&mut steps, &mut plan, changes),
        Platform::AzureFlexible => azure(&mut steps, &mut plan, changes, &ids),
        Platform::Supabase => supabase(&mut steps, &mut plan, changes, &ids),
        Platform::Neon => neon(&mut steps, &mut plan, changes, &ids, input),
    }
    if platform.is_aws() {
        max_connections_check(&mut plan, changes, input);
    }
    if plan.refused.is_none() {
        plan.commands = steps.0;
    }
    plan
}

fn apply_method(c: &ProviderChange) -> &'static str {
    if c.restart {
        "pending-reboot"
    } else {
        "immediate"
    }
}

/// A value the AWS CLI's shorthand syntax carries as it is: letters, digits and `._+-` (a comma would
/// start the next key, `=` `[` `{` and quotes have meanings of their own, spaces are trimmed).
fn shorthand_safe(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
}

/// `ParameterName=…,ParameterValue=…,ApplyMethod=…` (reset: no value), quoted.
fn rds_parameter(c: &ProviderChange) -> String {
    let apply = apply_method(c);
    shell_quote(&match &c.value {
        Some(v) => format!(
            "ParameterName={},ParameterValue={v},ApplyMethod={apply}",
            c.name
        ),
        None => format!("ParameterName={},ApplyMethod={apply}", c.name),
    })
}

/// The parameters of one call: the shorthand form (one word per parameter) when every name and value is
/// [`shorthand_safe`], else the JSON form (one word, a list), which carries any value exactly (AWS CLI
/// user guide, "shorthand syntax": the JSON form is equivalent).
fn rds_parameters(chunk: &[&ProviderChange]) -> String {
    let safe = chunk
        .iter()
        .all(|c| shorthand_safe(&c.name) && c.value.as_deref().is_none_or(shorthand_safe));
    if safe {
        return chunk
            .iter()
            .map(|c| rds_parameter(c))
            .collect::<Vec<_>>()
            .join(" ");
    }
    let json = |s: &str| serde_json::Value::from(s).to_string();
    let items: Vec<String> = chunk
        .iter()
        .map(|c| match &c.value {
            Some(v) => format!(
                "{{\"ParameterName\":{},\"ParameterValue\":{},\"ApplyMethod\":\"{}\"}}",
                json(&c.name),
                json(v),
                apply_method(c)
            ),
            None => format!(
                "{{\"ParameterName\":{},\"ApplyMethod\":\"{}\"}}",
                json(&c.name),
                apply_method(c)
            ),
        })
        .collect();
    shell_quote(&format!("[{}]", items.join(",")))
}

/// modify-(db|db-cluster)-parameter-group for the values set and reset-… for those reset (a reset has no
/// ParameterValue, which modify requires: `tune undo` can bring both), 20 parameters per call.
fn modify_calls(
    steps: &mut Steps,
    changes: &[ProviderChange],
    kind: &str,
    group: &str,
    region: &str,
    why: &str,
) {
    let (resets, sets): (Vec<&ProviderChange>, Vec<&ProviderChange>) =
        changes.iter().partition(|c| c.value.is_none());
    for (verb, these) in [("modify", sets), ("reset", resets)] {
        calls(steps, verb, &these, kind, group, region, why);
    }
}

/// One verb's calls, 20 parameters each.
fn calls(
    steps: &mut Steps,
    verb: &str,
    changes: &[&ProviderChange],
    kind: &str,
    group: &str,
    region: &str,
    why: &str,
) {
    let chunks: Vec<&[&ProviderChange]> = changes.chunks(RDS_MAX_PARAMETERS).collect();
    let n = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let part = if n > 1 {
            format!(
                " (call {} of {n}: at most {RDS_MAX_PARAMETERS} parameters per call)",
                i + 1
            )
        } else {
            String::new()
        };
        steps.push(
            format!(
                "aws rds {verb}-{kind}-parameter-group --{kind}-parameter-group-name {group} --region {region} \
                 --parameters {}",
                rds_parameters(chunk)
            ),
            format!("{why}{part}"),
        );
    }
}

fn any_static(changes: &[ProviderChange]) -> bool {
    changes.iter().any(|c| c.restart)
}

fn static_names(changes: &[ProviderChange]) -> String {
    changes
        .iter()
        .filter(|c| c.restart)
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// RDS (and Aurora's instance parameter group): find the group, modify it; a `default.` group cannot be
/// modified: create one, modify it, attach it, reboot.
fn aws_instance(
    steps: &mut Steps,
    plan: &mut ProviderPlan,
    changes: &[ProviderChange],
    ids: &HostIds,
    input: &ProviderInput,
    family: &str,
) {
    let instance = if ids.aws_cluster {
        shell_quote("<instance-id>")
    } else {
        id(&ids.aws_id, "<instance-id>")
    };
    let region = id(&ids.aws_region, "<region>");
    let group = shell_quote("<parameter-group>");
    let new_group = shell_quote("<new-parameter-group>");
    let family = shell_quote(&format!("{family}{}", input.major));
    let reboot =
        format!("aws rds reboot-db-instance --db-instance-identifier {instance} --region {region}");
    steps.push(
        format!(
            "aws rds describe-db-instances --db-instance-identifier {instance} --region {region} --query \
             'DBInstances[0].DBParameterGroups[0].DBParameterGroupName' --output text"
        ),
        "find the instance's DB parameter group: <parameter-group> below",
    );
    modify_calls(
        steps,
        changes,
        "db",
        &group,
        &region,
        "if the group's name does NOT start with `default.`: change it in that group",
    );
    if any_static(changes) {
        steps.push(
            reboot.clone(),
            format!(
                "if the group's name does NOT start with `default.`: {} take effect only after a reboot \
                 (ApplyMethod pending-reboot)",
                static_names(changes)
            ),
        );
    }
    steps.push(
        format!(
            "aws rds create-db-parameter-group --db-parameter-group-name {new_group} \
             --db-parameter-group-family {family} --description {} --region {region}",
            shell_quote("connection settings (pgconn)")
        ),
        "if the group's name starts with `default.`: a default group cannot be modified; create one for the \
         family (pick <new-parameter-group>; the family is the server's major version)",
    );
    modify_calls(
        steps,
        changes,
        "db",
        &new_group,
        &region,
        "if `default.`: change the new group",
    );
    steps.push(
        format!(
            "aws rds modify-db-instance --db-instance-identifier {instance} --db-parameter-group-name \
             {new_group} --region {region}"
        ),
        "if `default.`: attach the new group to the instance",
    );
    steps.push(
        reboot,
        "if `default.`: reboot so that the instance uses the new group",
    );
    if ids.aws_id.is_none() || ids.aws_cluster {
        plan.notes.push(
            "<instance-id> and <region> are not in the host name connected to: fill them in".into(),
        );
    }
}

/// Aurora: whether a setting lives in the cluster or the instance parameter group is unverified: both
/// forms, labelled.
fn aurora(
    steps: &mut Steps,
    plan: &mut ProviderPlan,
    changes: &[ProviderChange],
    ids: &HostIds,
    input: &ProviderInput,
) {
    let cluster = if ids.aws_cluster {
        id(&ids.aws_id, "<cluster-id>")
    } else {
        shell_quote("<cluster-id>")
    };
    let region = id(&ids.aws_region, "<region>");
    let group = shell_quote("<cluster-parameter-group>");
    steps.push(
        format!(
            "aws rds describe-db-clusters --db-cluster-identifier {cluster} --region {region} --query \
             'DBClusters[0].DBClusterParameterGroup' --output text"
        ),
        "CLUSTER FORM (unverified which group holds these settings on Aurora): find the cluster parameter \
         group",
    );
    modify_calls(
        steps,
        changes,
        "db-cluster",
        &group,
        &region,
        "CLUSTER FORM: if the group's name does NOT start with `default.`: change it there (a `default.` \
         group cannot be modified: create-db-cluster-parameter-group, modify it, then aws rds \
         modify-db-cluster --db-cluster-parameter-group-name)",
    );
    let first = steps.0.len();
    aws_instance(steps, plan, changes, ids, input, "aurora-postgresql");
    for s in &mut steps.0[first..] {
        s.why = format!("INSTANCE FORM (unverified): {}", s.why);
    }
    plan.warnings.push(
        "Aurora: whether these settings belong in the cluster or the instance parameter group is \
         unverified; both forms are printed: use the one your parameter groups list the setting in"
            .into(),
    );
}

fn cloud_sql(steps: &mut Steps, plan: &mut ProviderPlan, changes: &[ProviderChange]) {
    let instance = shell_quote("<instance-name>");
    steps.push(
        format!(
            "gcloud sql instances describe {instance} --format={}",
            shell_quote("value(settings.databaseFlags)")
        ),
        "the flags set now: every one of them must be repeated in the next step",
    );
    let mut flags = vec!["<every-existing-flag>".to_string()];
    let reset = changes.iter().any(|c| c.value.is_none());
    flags.extend(
        changes
            .iter()
            .filter_map(|c| c.value.as_ref().map(|v| format!("{}={v}", c.name))),
    );
    let removed: Vec<&str> = changes
        .iter()
        .filter(|c| c.value.is_none())
        .map(|c| c.name.as_str())
        .collect();
    let Some((list, delimiter)) = gcloud_list(&flags) else {
        plan.refused = Some(
            "a value holds a comma and every delimiter gcloud could use instead (: ; | ~ @ # % ! & *): no \
             --database-flags list can carry it; set it in the Cloud SQL console"
                .into(),
        );
        return;
    };
    let separated = match &delimiter {
        Some(d) => format!(
            " (a value holds a comma: the list is separated by {d} instead, gcloud's alternate delimiter \
             ^{d}^, `gcloud topic escaping`: separate the existing flags with {d} too)"
        ),
        None => String::new(),
    };
    steps.push(
        format!(
            "gcloud sql instances patch {instance} --database-flags={}",
            shell_quote(&list)
        ),
        format!("{}{separated}", if reset {
            format!(
                "--database-flags replaces the whole list: repeat every existing flag except {} (leaving \
                 one out resets it to Cloud SQL's default); the instance may restart",
                removed.join(", ")
            )
        } else {
            "--database-flags replaces the whole list: repeat every existing flag; the instance (and its \
             replicas) may restart"
                .to_string()
        }),
    );
    plan.warnings.push(
        "Cloud SQL: `gcloud sql instances patch --database-flags` replaces every flag set before: replace \
         <every-existing-flag> with the list from the describe step, or those flags are reset; the \
         instance (and its replicas) may restart"
            .into(),
    );
    plan.notes
        .push("<instance-name> is not in the host name connected to: fill it in".into());
}

/// gcloud's list of `name=value` items: comma-separated, or, when an item holds a comma, separated by
/// an alternate delimiter that is in no item, written `^D^` in front (`gcloud topic escaping`). The
/// delimiter is returned when one was needed; None when every candidate is in some item (no list that
/// splits back into these items can be written).
fn gcloud_list(items: &[String]) -> Option<(String, Option<String>)> {
    if !items.iter().any(|i| i.contains(',')) {
        return Some((items.join(","), None));
    }
    let splits_back = |d: &str| {
        items.iter().all(|i| !i.contains(d))
            && items.join(d).split(d).eq(items.iter().map(String::as_str))
    };
    let delimiter = [":", ";", "|", "~", "@", "#", "%", "!", "&", "*"]
        .into_iter()
        .find(|d| splits_back(d))?;
    Some((
        format!("^{delimiter}^{}", items.join(delimiter)),
        Some(delimiter.to_string()),
    ))
}

fn azure(steps: &mut Steps, plan: &mut ProviderPlan, changes: &[ProviderChange], ids: &HostIds) {
    let server = id(&ids.azure_server, "<server-name>");
    let rg = shell_quote("<resource-group>");
    for c in changes {
        match &c.value {
            Some(v) => steps.push(
                format!(
                    "az postgres flexible-server parameter set --resource-group {rg} --server-name {server} \
                     --name {} {}",
                    shell_quote(&c.name),
                    azure_value(v)
                ),
                format!("set {}", c.name),
            ),
            None => steps.push(
                format!(
                    "az postgres flexible-server parameter set --resource-group {rg} --server-name {server} \
                     --name {}",
                    shell_quote(&c.name)
                ),
                "back to Azure's default: without --value the default is used (unverified)".to_string(),
            ),
        }
    }
    if any_static(changes) {
        steps.push(
            format!("az postgres flexible-server restart --resource-group {rg} --name {server}"),
            format!(
                "{} take effect only after a restart (syntax unverified)",
                static_names(changes)
            ),
        );
    }
    plan.notes
        .push("<resource-group> is not in the host name: fill it in".into());
}

/// `--value V`, or `--value=V` for a value that starts with `-` (else taken for an option).
fn azure_value(v: &str) -> String {
    if v.starts_with('-') {
        shell_quote(&format!("--value={v}"))
    } else {
        format!("--value {}", shell_quote(v))
    }
}

fn supabase(steps: &mut Steps, plan: &mut ProviderPlan, changes: &[ProviderChange], ids: &HostIds) {
    let project = id(&ids.supabase_ref, "<project-ref>");
    for c in changes {
        if c.name == "max_connections" {
            match &c.value {
                Some(v) if !v.bytes().all(|b| b.is_ascii_digit()) || v.is_empty() => {
                    plan.warnings.push(format!(
                        "max_connections={v} is not a whole number: no command printed for it"
                    ));
                }
                Some(v) => {
                    steps.push(
                        format!(
                            "supabase --experimental --project-ref {project} postgres-config update --config {}",
                            shell_quote(&format!("max_connections={v}"))
                        ),
                        "max_connections is set through the CLI only on Supabase; the server restarts",
                    );
                    plan.notes.push(
                        "Supabase: max_connections set this way no longer follows the compute size until it \
                         is removed again (`supabase postgres-config delete --config max_connections`: \
                         unverified)"
                            .into(),
                    );
                }
                None => steps.push(
                    format!(
                        "supabase --experimental --project-ref {project} postgres-config delete --config \
                         max_connections"
                    ),
                    "back to the compute size's default (unverified)",
                ),
            }
        } else {
            steps.push(
                role_form(c),
                format!(
                    "{}: set it for the applications' role instead (ALTER ROLE … SET is allowed on Supabase; \
                     pgconn runs it)",
                    c.name
                ),
            );
        }
    }
    if ids.supabase_ref.is_none() {
        plan.notes.push(
            "<project-ref> is not in the host name connected to (a pooler host carries it in the user \
             name, postgres.<project-ref>): fill it in"
                .into(),
        );
    }
}

fn neon(
    steps: &mut Steps,
    plan: &mut ProviderPlan,
    changes: &[ProviderChange],
    ids: &HostIds,
    input: &ProviderInput,
) {
    for c in changes {
        if c.name == "max_connections" {
            steps.push(
                format!(
                    "neonctl endpoints update {} --cu {}",
                    id(&ids.neon_endpoint, "<endpoint-id>"),
                    shell_quote("<compute-units>")
                ),
                "max_connections follows the compute size on Neon (104 at 0.25 CU … 4000): choose a larger \
                 compute (command syntax unverified; the Console's Edit compute does the same)",
            );
            if let Some(pooler) = neon_pooler_host(input.host) {
                plan.notes.push(format!(
                    "or connect through Neon's pooler, which takes many more client connections: {pooler}"
                ));
            } else {
                plan.notes.push(
                    "or connect through Neon's pooler: the endpoint's host name with -pooler after the \
                     endpoint id"
                        .into(),
                );
            }
        } else {
            steps.push(
                role_form(c),
                format!(
                    "{}: set it per role (or --database DB) on Neon; pgconn runs it",
                    c.name
                ),
            );
        }
    }
}

/// The `--role` form of a change, which pgconn runs itself (ALTER ROLE … SET is allowed where ALTER
/// SYSTEM is not): the value as typed where there is one.
fn role_form(c: &ProviderChange) -> String {
    match c.input.as_ref().or(c.value.as_ref()) {
        Some(v) => format!(
            "pgconn tune set --role {} {}",
            shell_quote("<role>"),
            shell_quote(&format!("{}={v}", c.name))
        ),
        None => format!(
            "pgconn tune reset --role {} {}",
            shell_quote("<role>"),
            shell_quote(&c.name)
        ),
    }
}

/// Neon's pooler host: `-pooler` after the endpoint id (None when the host is no Neon endpoint).
pub fn neon_pooler_host(host: Option<&str>) -> Option<String> {
    let h = host?.trim().trim_end_matches('.').to_ascii_lowercase();
    let ep = host_ids(Some(&h)).neon_endpoint?;
    let rest = h.split_once('.')?.1;
    Some(format!("{ep}-pooler.{rest}"))
}

/// RDS: too high a max_connections keeps the instance from starting. Above the default for the instance
/// size (LEAST(DBInstanceClassMemory/9531392, 5000)) is a warning, not an error.
fn max_connections_check(
    plan: &mut ProviderPlan,
    changes: &[ProviderChange],
    input: &ProviderInput,
) {
    let Some(v) = changes
        .iter()
        .find(|c| c.name == "max_connections")
        .and_then(|c| c.value.as_deref())
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    match input.instance_memory {
        Some(mem) => {
            let default = rds_default_max_connections(mem);
            if v > default {
                plan.warnings.push(format!(
                    "max_connections {v} is above the default for this instance size \
                     (LEAST(DBInstanceClassMemory/9531392, 5000) = {default} for the memory given; \
                     DBInstanceClassMemory is somewhat below the class's nominal memory): too high a value \
                     keeps the instance from starting (AWS docs); make sure its memory allows it"
                ));
            }
        }
        None => plan.notes.push(
            "pgconn cannot check max_connections against the instance's memory (RDS's default is \
             LEAST(DBInstanceClassMemory/9531392, 5000); --instance-memory SIZE checks it); too high a value \
             keeps the instance from starting"
                .into(),
        ),
    }
}

/// RDS's default max_connections for an instance with this DBInstanceClassMemory (bytes).
pub fn rds_default_max_connections(memory: u64) -> u64 {
    (memory / 9_531_392).min(5000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(name: &str, value: Option<&str>, restart: bool) -> ProviderChange {
        ProviderChange {
            name: name.into(),
            value: value.map(str::to_string),
            input: None,
            restart,
        }
    }

    fn input(host: Option<&str>) -> ProviderInput<'_> {
        ProviderInput {
            host,
            major: 15,
            instance_memory: None,
        }
    }

    #[test]
    fn base_values_are_integers_in_the_unit() {
        assert_eq!(base_value(Some(300000.0), "5min"), "300000");
        assert_eq!(base_value(Some(0.5), "0.5"), "0.5");
        assert_eq!(base_value(None, "on"), "on");
        assert_eq!(base_value(Some(f64::NAN), "x"), "x");
    }

    #[test]
    fn identifiers_from_host_names() {
        let rds = host_ids(Some("mydb.c9akciq32.eu-west-1.rds.amazonaws.com"));
        assert_eq!(rds.aws_id.as_deref(), Some("mydb"));
        assert_eq!(rds.aws_region.as_deref(), Some("eu-west-1"));
        assert!(!rds.aws_cluster);
        let aurora = host_ids(Some("MyCl.cluster-ro-abc.us-east-1.rds.amazonaws.com."));
        assert_eq!(aurora.aws_id.as_deref(), Some("mycl"));
        assert!(aurora.aws_cluster);
        assert_eq!(
            host_ids(Some("srv-1.postgres.database.azure.com"))
                .azure_server
                .as_deref(),
            Some("srv-1")
        );
        assert_eq!(
            host_ids(Some("db.abcdefghijklmnop.supabase.co"))
                .supabase_ref
                .as_deref(),
            Some("abcdefghijklmnop")
        );
        assert_eq!(
            host_ids(Some("aws-0-eu-central-1.pooler.supabase.com")),
            HostIds::default()
        );
        assert_eq!(
            host_ids(Some(
                "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech"
            ))
            .neon_endpoint
            .as_deref(),
            Some("ep-cool-darkness-123456")
        );
        assert_eq!(
            neon_pooler_host(Some("ep-cool-darkness-123456.us-east-2.aws.neon.tech")).as_deref(),
            Some("ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech")
        );
        // Hostile or unexpected names: no identifier, never a guess, no panic.
        for h in [
            "x;rm -rf /.abc.eu-west-1.rds.amazonaws.com",
            "a.b.c.d.rds.amazonaws.com",
            "rds.amazonaws.com",
            "bücher.postgres.database.azure.com",
            "$(id).postgres.database.azure.com",
            "10.0.0.1",
            "::1",
            "",
            "ü",
        ] {
            let ids = host_ids(Some(h));
            assert_eq!(ids, HostIds::default(), "{h}");
        }
        let long = format!("{}.rds.amazonaws.com", "a".repeat(300));
        assert_eq!(host_ids(Some(&long)), HostIds::default());
    }

    #[test]
    fn rds_sequence_with_units_static_and_default_group() {
        let p = commands(
            Platform::AwsRds,
            &[
                ch("max_connections", Some("200"), true),
                ch("idle_in_transaction_session_timeout", Some("300000"), false),
            ],
            &input(Some("mydb.c9akciq32.eu-west-1.rds.amazonaws.com")),
        );
        let all: Vec<&str> = p.commands.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(
            all[0],
            "aws rds describe-db-instances --db-instance-identifier mydb --region eu-west-1 --query \
             'DBInstances[0].DBParameterGroups[0].DBParameterGroupName' --output text"
        );
        assert_eq!(
            all[1],
            "aws rds modify-db-parameter-group --db-parameter-group-name '<parameter-group>' --region \
             eu-west-1 --parameters \
             'ParameterName=max_connections,ParameterValue=200,ApplyMethod=pending-reboot' \
             'ParameterName=idle_in_transaction_session_timeout,ParameterValue=300000,ApplyMethod=immediate'"
        );
        assert!(all[2].starts_with("aws rds reboot-db-instance --db-instance-identifier mydb"));
        assert!(all[3].contains("create-db-parameter-group"));
        assert!(all[3].contains("--db-parameter-group-family postgres15"));
        assert!(all[4].contains("'<new-parameter-group>'"));
        assert!(all[5].starts_with("aws rds modify-db-instance"));
        assert!(all[6].starts_with("aws rds reboot-db-instance"));
        assert!(p.commands[3].why.contains("starts with `default.`"));
        assert_eq!(
            p.commands.iter().map(|c| c.step).collect::<Vec<_>>(),
            (1..=7).collect::<Vec<_>>()
        );
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("cannot check max_connections")));
        // Without identifiers in the host name: placeholders.
        let q = commands(
            Platform::AwsRds,
            &[ch("statement_timeout", Some("0"), false)],
            &input(None),
        );
        assert!(q.commands[0]
            .command
            .contains("'<instance-id>' --region '<region>'"));
        assert!(!q.commands.iter().any(|c| c.why.contains("after a reboot")));
    }

    #[test]
    fn rds_splits_twenty_parameters_per_call() {
        let many: Vec<ProviderChange> = (0..45)
            .map(|i| ch(&format!("s{i}"), Some("1"), false))
            .collect();
        let p = commands(Platform::AwsRds, &many, &input(None));
        let calls: Vec<&ProviderCommand> = p
            .commands
            .iter()
            .filter(|c| c.command.contains("modify-db-parameter-group"))
            .collect();
        assert_eq!(calls.len(), 6, "3 calls per group, 2 groups");
        assert_eq!(calls[0].command.matches("ParameterName=").count(), 20);
        assert_eq!(calls[2].command.matches("ParameterName=").count(), 5);
        assert!(calls[1].why.contains("call 2 of 3"));
    }

    #[test]
    fn rds_sets_and_resets_go_in_calls_of_their_own() {
        // tune undo can set one value back and reset another: modify requires a ParameterValue, so the
        // reset goes through reset-…
        let p = commands(
            Platform::AwsRds,
            &[
                ch("statement_timeout", Some("30000"), false),
                ch("max_connections", None, true),
            ],
            &input(None),
        );
        let modify: Vec<&ProviderCommand> = p
            .commands
            .iter()
            .filter(|c| c.command.contains("aws rds modify-db-parameter-group"))
            .collect();
        let reset: Vec<&ProviderCommand> = p
            .commands
            .iter()
            .filter(|c| c.command.contains("aws rds reset-db-parameter-group"))
            .collect();
        assert!(!modify.is_empty() && !reset.is_empty(), "{:?}", p.commands);
        assert!(modify
            .iter()
            .all(|c| c.command.contains("statement_timeout")
                && c.command.contains("ParameterValue=30000")
                && !c.command.contains("max_connections")));
        assert!(reset.iter().all(|c| c.command.contains("max_connections")
            && !c.command.contains("ParameterValue")
            && !c.command.contains("statement_timeout")));
    }

    #[test]
    fn rds_max_connections_against_instance_memory() {
        assert_eq!(rds_default_max_connections(4 * 1024 * 1024 * 1024), 450);
        assert_eq!(rds_default_max_connections(u64::MAX), 5000);
        let mut i = input(None);
        i.instance_memory = Some(4 * 1024 * 1024 * 1024);
        let p = commands(
            Platform::AwsRds,
            &[ch("max_connections", Some("500"), true)],
            &i,
        );
        assert!(
            p.warnings.iter().any(|w| w.contains("= 450")),
            "{:?}",
            p.warnings
        );
        let ok = commands(
            Platform::AwsRds,
            &[ch("max_connections", Some("400"), true)],
            &i,
        );
        assert!(ok.warnings.is_empty());
    }

    #[test]
    fn values_and_identifiers_are_shell_quoted() {
        let p = commands(
            Platform::AzureFlexible,
            &[ch("application_name", Some("a b'; rm -rf /"), false)],
            &input(Some("srv.postgres.database.azure.com")),
        );
        let c = &p.commands[0].command;
        assert!(c.contains("--server-name srv"), "{c}");
        assert!(c.ends_with(r#"--value "a b'; rm -rf /""#), "{c}");
        let g = commands(
            Platform::CloudSql,
            &[ch("statement_timeout", Some("300000"), false)],
            &input(None),
        );
        assert_eq!(
            g.commands[1].command,
            "gcloud sql instances patch '<instance-name>' \
             --database-flags='<every-existing-flag>,statement_timeout=300000'"
        );
        assert!(g.warnings[0].contains("replaces every flag"));
    }

    #[test]
    fn resets_use_the_providers_default_forms() {
        let p = commands(
            Platform::AwsRds,
            &[ch("max_connections", None, true)],
            &input(None),
        );
        assert!(p.commands[1]
            .command
            .contains("reset-db-parameter-group --db-parameter-group-name '<parameter-group>'"));
        assert!(p.commands[1]
            .command
            .ends_with("'ParameterName=max_connections,ApplyMethod=pending-reboot'"));
        let s = commands(
            Platform::Supabase,
            &[ch("max_connections", None, true)],
            &input(Some("db.abcdefghijklmnop.supabase.co")),
        );
        assert!(s.commands[0]
            .command
            .contains("postgres-config delete --config max_connections"));
        assert!(s.commands[0].why.contains("unverified"));
    }

    #[test]
    fn aurora_prints_both_forms_labelled() {
        let p = commands(
            Platform::AwsAurora,
            &[ch("max_connections", Some("200"), true)],
            &input(Some("cl.cluster-abc.us-east-1.rds.amazonaws.com")),
        );
        assert!(p.commands[0].command.contains("--db-cluster-identifier cl"));
        assert!(p.commands[0].why.starts_with("CLUSTER FORM"));
        assert!(p.commands[1]
            .command
            .contains("modify-db-cluster-parameter-group"));
        assert!(p.commands[2].why.starts_with("INSTANCE FORM"));
        assert!(p.commands[2].command.contains("'<instance-id>'"));
        assert!(p
            .commands
            .iter()
            .any(|c| c.command.contains("aurora-postgresql15")));
    }

    #[test]
    fn supabase_and_neon_timeouts_go_per_role() {
        let mut c = ch("idle_in_transaction_session_timeout", Some("300000"), false);
        c.input = Some("5min".into());
        for platform in [Platform::Supabase, Platform::Neon] {
            let p = commands(platform, &[c.clone()], &input(None));
            assert_eq!(
                p.commands[0].command,
                "pgconn tune set --role '<role>' 'idle_in_transaction_session_timeout=5min'"
            );
        }
        let s = commands(
            Platform::Supabase,
            &[ch("max_connections", Some("200"), true)],
            &input(Some("db.abcdefghijklmnop.supabase.co")),
        );
        assert_eq!(
            s.commands[0].command,
            "supabase --experimental --project-ref abcdefghijklmnop postgres-config update --config \
             'max_connections=200'"
        );
    }

    /// The argument after `flag` (`--flag V`) or in it (`--flag=V`).
    fn arg_of(args: &[String], flag: &str) -> Option<String> {
        let eq = format!("{flag}=");
        args.iter().enumerate().find_map(|(n, a)| {
            if a == flag {
                args.get(n + 1).cloned()
            } else {
                a.strip_prefix(&eq).map(str::to_string)
            }
        })
    }

    /// gcloud's list as `gcloud topic escaping` documents it: `^D^` in front sets the delimiter.
    fn gcloud_items(list: &str) -> Vec<String> {
        if let Some(rest) = list.strip_prefix('^') {
            if let Some(end) = rest.find('^').filter(|e| *e > 0) {
                let d = &rest[..end];
                return rest[end + 1..].split(d).map(str::to_string).collect();
            }
        }
        list.split(',').map(str::to_string).collect()
    }

    #[test]
    fn hostile_values_are_carried_exactly_or_refused() {
        let values = [
            "a, b",
            "a,b,c",
            "it's",
            "say \"hi\"",
            "two words",
            " padded ",
            "$HOME",
            "`id`",
            "$(id)",
            "a=b",
            "[{\"x\":1}]",
            "-1",
            "--help",
            "",
            "x:y;z|w~v@u#t%s!r&q,o",
            "é, ü",
            "100",
        ];
        for v in values {
            let set = |p: Platform| {
                let plan = commands(
                    p,
                    &[ProviderChange {
                        name: "search_path".into(),
                        value: Some(v.into()),
                        input: Some(v.into()),
                        restart: false,
                    }],
                    &input(Some("mydb.c9akciq32.eu-west-1.rds.amazonaws.com")),
                );
                assert!(plan.refused.is_none(), "{v:?}");
                plan.commands
                    .iter()
                    .map(|c| {
                        // every command is valid shell: it splits into words
                        shlex::split(&c.command)
                            .unwrap_or_else(|| panic!("not valid shell: {}", c.command))
                    })
                    .collect::<Vec<_>>()
            };
            // RDS: the shorthand word, or the JSON list (the only word after --parameters).
            let rds = set(Platform::AwsRds);
            let modify = &rds[1];
            let n = modify.iter().position(|a| a == "--parameters").unwrap();
            assert_eq!(modify.len(), n + 2, "one word of parameters: {modify:?}");
            let p = &modify[n + 1];
            if p.starts_with('[') {
                let j: serde_json::Value = serde_json::from_str(p).unwrap();
                assert_eq!(j[0]["ParameterName"], "search_path");
                assert_eq!(j[0]["ParameterValue"], v, "{p}");
                assert_eq!(j[0]["ApplyMethod"], "immediate");
                assert!(!shorthand_safe(v));
            } else {
                assert_eq!(
                    p,
                    &format!("ParameterName=search_path,ParameterValue={v},ApplyMethod=immediate")
                );
                assert!(shorthand_safe(v), "{v:?} needs the JSON form");
            }
            // Cloud SQL: the list, with an alternate delimiter when a value holds a comma.
            let gcp = set(Platform::CloudSql);
            let list = arg_of(&gcp[1], "--database-flags").unwrap();
            let items = gcloud_items(&list);
            assert_eq!(
                items,
                vec![
                    "<every-existing-flag>".to_string(),
                    format!("search_path={v}")
                ],
                "{list}"
            );
            assert_eq!(v.contains(','), list.starts_with('^'), "{list}");
            // Azure: --value V (or --value=V for a value that starts with -).
            let az = set(Platform::AzureFlexible);
            assert_eq!(arg_of(&az[0], "--value").as_deref(), Some(v), "{:?}", az[0]);
            // Supabase and Neon: the --role form pgconn runs itself, the value as typed.
            for p in [Platform::Supabase, Platform::Neon] {
                let role = set(p);
                assert_eq!(role[0].last().unwrap(), &format!("search_path={v}"));
            }
        }
        // Control characters: refused on every platform, no command printed.
        for v in ["line\nbreak", "tab\there", "esc\x1b[2J", "cr\r"] {
            for p in Platform::ALL {
                let plan = commands(p, &[ch("search_path", Some(v), false)], &input(None));
                assert!(plan.refused.is_some(), "{p:?} {v:?}");
                assert!(plan.commands.is_empty());
            }
        }
        // A comma and every alternate delimiter in the values: no gcloud list can carry it.
        let all = commands(
            Platform::CloudSql,
            &[ch("search_path", Some("x:y;z|w~v@u#t%s!r&q*p,o"), false)],
            &input(None),
        );
        assert!(all.refused.is_some() && all.commands.is_empty(), "{all:?}");
        // A max_connections that is no whole number never reaches Supabase's CLI.
        let sb = commands(
            Platform::Supabase,
            &[ch("max_connections", Some("1,2"), true)],
            &input(None),
        );
        assert!(sb.commands.is_empty() && !sb.warnings.is_empty());
        // A comma in one value of many: the whole call in the JSON form, values exact.
        let two = commands(
            Platform::AwsRds,
            &[
                ch("max_connections", Some("200"), true),
                ch("search_path", Some("\"$user\", public"), false),
            ],
            &input(None),
        );
        let words = shlex::split(&two.commands[1].command).unwrap();
        let j: serde_json::Value = serde_json::from_str(words.last().unwrap()).unwrap();
        assert_eq!(j[0]["ParameterValue"], "200");
        assert_eq!(j[0]["ApplyMethod"], "pending-reboot");
        assert_eq!(j[1]["ParameterValue"], "\"$user\", public");
    }
}

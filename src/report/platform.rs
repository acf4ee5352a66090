//! Managed platforms (RDS, Aurora, Cloud SQL, Azure Flexible Server, Supabase, Neon): which one a
//! server runs on, told from what any role can read — the host name pgconn connected to, the provider's
//! own settings and functions (read in the server facts), and the provider's roles (weak evidence: roles
//! survive a dump restored to a self-hosted server, settings and host names do not).
//!
//! Everything here is pure: the facts statement brings the markers ([`Markers`]), the connection brings
//! the host name, the command line may name the platform (`--platform NAME|none`).

use serde::Serialize;

/// A managed PostgreSQL service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    AwsRds,
    AwsAurora,
    CloudSql,
    AzureFlexible,
    Supabase,
    Neon,
}

impl Platform {
    pub const ALL: [Platform; 6] = [
        Platform::AwsRds,
        Platform::AwsAurora,
        Platform::CloudSql,
        Platform::AzureFlexible,
        Platform::Supabase,
        Platform::Neon,
    ];

    /// The name in JSON, `--platform` and Prometheus' label.
    pub fn name(self) -> &'static str {
        match self {
            Platform::AwsRds => "aws-rds",
            Platform::AwsAurora => "aws-aurora",
            Platform::CloudSql => "cloud-sql",
            Platform::AzureFlexible => "azure-flexible",
            Platform::Supabase => "supabase",
            Platform::Neon => "neon",
        }
    }

    /// The service's name for people.
    pub fn title(self) -> &'static str {
        match self {
            Platform::AwsRds => "Amazon RDS for PostgreSQL",
            Platform::AwsAurora => "Amazon Aurora PostgreSQL",
            Platform::CloudSql => "Cloud SQL for PostgreSQL",
            Platform::AzureFlexible => "Azure Database for PostgreSQL flexible server",
            Platform::Supabase => "Supabase",
            Platform::Neon => "Neon",
        }
    }

    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn is_aws(self) -> bool {
        matches!(self, Platform::AwsRds | Platform::AwsAurora)
    }

    /// The provider's own administrative roles, whose sessions pgconn leaves alone unless asked
    /// (`--include-provider`): `rdsadmin` is documented by AWS; the others are the names seen on those
    /// services, not confirmed in the providers' documentation (README "Managed platforms").
    pub fn admin_roles(self) -> &'static [&'static str] {
        match self {
            Platform::AwsRds | Platform::AwsAurora => &["rdsadmin"],
            Platform::CloudSql => &["cloudsqladmin"],
            Platform::AzureFlexible => &["azuresu"],
            Platform::Supabase => &["supabase_admin"],
            Platform::Neon => &["cloud_admin"],
        }
    }

    /// The provider's role that may terminate other roles' sessions, in the provider's terms.
    pub fn kill_terms(self) -> &'static str {
        match self {
            Platform::AwsRds | Platform::AwsAurora => {
                "on RDS, rds_superuser may terminate other roles' sessions but not superuser processes \
                 such as rdsadmin's"
            }
            Platform::CloudSql => {
                "on Cloud SQL there is no superuser: cloudsqlsuperuser may terminate the sessions of \
                 roles it is a member of, not cloudsqladmin's"
            }
            Platform::AzureFlexible => {
                "on Azure flexible server there is no superuser: azure_pg_admin may terminate the \
                 sessions of roles it is a member of, not azuresu's"
            }
            Platform::Supabase => {
                "on Supabase, postgres is not a true superuser: it may not terminate supabase_admin's \
                 sessions"
            }
            Platform::Neon => {
                "on Neon you can only cancel or terminate your own connections (and those of roles you \
                 are a member of)"
            }
        }
    }
}

/// How much the evidence says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A host name, a provider setting or function, or `--platform`: pgconn acts on it.
    Strong,
    /// Provider roles only: a note, no change of behaviour.
    Weak,
}

/// The platform as detected (JSON `platform`): `name` null when none.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlatformInfo {
    pub name: Option<Platform>,
    pub confidence: Option<Confidence>,
    pub evidence: Vec<String>,
}

impl PlatformInfo {
    /// The platform pgconn acts on: named with strong evidence (or by `--platform`).
    pub fn managed(&self) -> Option<Platform> {
        match self.confidence {
            Some(Confidence::Strong) => self.name,
            _ => None,
        }
    }
}

/// What `--platform` said: detect (the default), none, or this platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlatformChoice {
    #[default]
    Detect,
    None,
    Given(Platform),
}

impl PlatformChoice {
    /// `none`, a platform's name, or `auto` (detect).
    pub fn parse(s: &str) -> Option<PlatformChoice> {
        match s {
            "auto" => Some(PlatformChoice::Detect),
            "none" => Some(PlatformChoice::None),
            other => Platform::from_name(other).map(PlatformChoice::Given),
        }
    }
}

/// The markers the facts statement reads (`facts.sql`): provider settings that exist, whether
/// `aurora_version()` exists, provider roles that exist.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct Markers {
    #[serde(default)]
    pub provider_settings: Vec<String>,
    #[serde(default)]
    pub aurora_version: bool,
    #[serde(default)]
    pub provider_roles: Vec<String>,
}

/// The provider settings the facts statement looks for, each with its platform. Only names read in the
/// providers' documentation, or named so by the provider's own extension (see the README).
pub const PROVIDER_SETTINGS: &[(&str, Platform)] = &[
    ("rds.rds_superuser_reserved_connections", Platform::AwsRds),
    ("rds.extensions", Platform::AwsRds),
    ("cloudsql.enable_pgaudit", Platform::CloudSql),
    ("cloudsql.iam_authentication", Platform::CloudSql),
    ("azure.extensions", Platform::AzureFlexible),
    ("neon.timeline_id", Platform::Neon),
    ("neon.tenant_id", Platform::Neon),
];

/// The provider roles the facts statement looks for (weak evidence).
pub const PROVIDER_ROLES: &[(&str, Platform)] = &[
    ("rds_superuser", Platform::AwsRds),
    ("rds_reserved", Platform::AwsRds),
    ("rdsadmin", Platform::AwsRds),
    ("cloudsqlsuperuser", Platform::CloudSql),
    ("azure_pg_admin", Platform::AzureFlexible),
    ("supabase_admin", Platform::Supabase),
    ("neon_superuser", Platform::Neon),
];

/// The longest name DNS allows (without the trailing dot).
const MAX_HOST_NAME: usize = 253;

/// Host-name suffixes, most specific first.
const HOST_SUFFIXES: &[(&str, Platform)] = &[
    ("rds.amazonaws.com", Platform::AwsRds),
    ("rds.amazonaws.com.cn", Platform::AwsRds),
    ("postgres.database.azure.com", Platform::AzureFlexible),
    ("pooler.supabase.com", Platform::Supabase),
    ("supabase.co", Platform::Supabase),
    ("neon.tech", Platform::Neon),
];

/// The platform a host name names, with the evidence's words: `*.rds.amazonaws.com` (an Aurora cluster
/// endpoint, a label `cluster-…`, is Aurora), `*.postgres.database.azure.com`, `*.supabase.co`,
/// `*.pooler.supabase.com`, `*.neon.tech`. A socket directory, an IP address, an empty or over-long name
/// is no evidence. Never panics, whatever the text.
pub fn host_evidence(host: &str) -> Option<(Platform, String)> {
    let h = host.trim().trim_end_matches('.');
    if h.is_empty()
        || h.len() > MAX_HOST_NAME
        || h.starts_with('/')
        || h.starts_with('@')
        || h.contains(':')
        || h.contains('[')
        || h.parse::<std::net::IpAddr>().is_ok()
    {
        return None;
    }
    let lower = h.to_lowercase();
    let labels: Vec<&str> = lower.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    for (suffix, platform) in HOST_SUFFIXES {
        let Some(rest) = lower.strip_suffix(suffix) else {
            continue;
        };
        // A label boundary and at least one label before the suffix.
        let Some(rest) = rest.strip_suffix('.') else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        let mut platform = *platform;
        if platform == Platform::AwsRds && rest.split('.').any(|l| l.starts_with("cluster-")) {
            platform = Platform::AwsAurora;
        }
        return Some((platform, format!("host name *.{suffix}")));
    }
    None
}

/// The platform from the choice, the host name connected to (None for a socket) and the markers:
/// `--platform` first, then the strongest evidence (Aurora's function, provider settings, the host name),
/// then provider roles as weak evidence.
pub fn detect(choice: PlatformChoice, host: Option<&str>, markers: &Markers) -> PlatformInfo {
    match choice {
        PlatformChoice::None => {
            return PlatformInfo {
                name: None,
                confidence: None,
                evidence: vec!["--platform none".into()],
            }
        }
        PlatformChoice::Given(p) => {
            return PlatformInfo {
                name: Some(p),
                confidence: Some(Confidence::Strong),
                evidence: vec![format!("--platform {}", p.name())],
            }
        }
        PlatformChoice::Detect => {}
    }
    let mut strong: Vec<(Platform, String)> = Vec::new();
    if markers.aurora_version {
        strong.push((Platform::AwsAurora, "function aurora_version()".into()));
    }
    for s in &markers.provider_settings {
        if let Some((_, p)) = PROVIDER_SETTINGS.iter().find(|(n, _)| n == s) {
            strong.push((*p, format!("setting {s}")));
        }
    }
    if let Some(e) = host.and_then(host_evidence) {
        strong.push(e);
    }
    if let Some((first, _)) = strong.first() {
        // Aurora has RDS's settings too: Aurora's own evidence decides.
        let name = if strong.iter().any(|(p, _)| *p == Platform::AwsAurora) && first.is_aws() {
            Platform::AwsAurora
        } else {
            *first
        };
        return PlatformInfo {
            name: Some(name),
            confidence: Some(Confidence::Strong),
            evidence: strong.into_iter().map(|(_, e)| e).collect(),
        };
    }
    let roles: Vec<(Platform, &str)> = markers
        .provider_roles
        .iter()
        .filter_map(|r| {
            PROVIDER_ROLES
                .iter()
                .find(|(n, _)| n == r)
                .map(|(n, p)| (*p, *n))
        })
        .collect();
    match roles.first() {
        Some((p, _)) => PlatformInfo {
            name: Some(*p),
            confidence: Some(Confidence::Weak),
            evidence: roles
                .iter()
                .filter(|(q, _)| q == p)
                .map(|(_, r)| format!("role {r}"))
                .collect(),
        },
        None => PlatformInfo::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_of_each_provider() {
        let cases = [
            (
                "mydb.c9akciq32.eu-west-1.rds.amazonaws.com",
                Some(Platform::AwsRds),
            ),
            (
                "MyDB.C9AKCIQ32.EU-WEST-1.RDS.AMAZONAWS.COM.",
                Some(Platform::AwsRds),
            ),
            (
                "mydb.cluster-c9akciq32.us-east-1.rds.amazonaws.com",
                Some(Platform::AwsAurora),
            ),
            (
                "mydb.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com",
                Some(Platform::AwsAurora),
            ),
            (
                "mydb.abc.rds.cn-north-1.rds.amazonaws.com.cn",
                Some(Platform::AwsRds),
            ),
            (
                "myserver.postgres.database.azure.com",
                Some(Platform::AzureFlexible),
            ),
            ("db.abcdefghijklmnop.supabase.co", Some(Platform::Supabase)),
            (
                "aws-0-eu-central-1.pooler.supabase.com",
                Some(Platform::Supabase),
            ),
            (
                "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech",
                Some(Platform::Neon),
            ),
            ("rds.amazonaws.com", None),
            ("notrds.amazonaws.com", None),
            ("evil-rds.amazonaws.com.example.org", None),
            ("myrds.amazonaws.com", None),
            ("xneon.tech", None),
            ("localhost", None),
            ("db.internal", None),
            ("/var/run/postgresql", None),
            ("@abstract", None),
            ("10.0.0.1", None),
            ("::1", None),
            ("[::1]", None),
            ("fe80::1%eth0", None),
            ("", None),
            (".", None),
            ("..rds.amazonaws.com", None),
            ("a..rds.amazonaws.com", None),
        ];
        for (host, want) in cases {
            assert_eq!(host_evidence(host).map(|(p, _)| p), want, "{host}");
        }
        assert_eq!(
            host_evidence("x.neon.tech").unwrap().1,
            "host name *.neon.tech"
        );
    }

    #[test]
    fn hostile_host_names_do_not_panic() {
        let long = format!("{}.rds.amazonaws.com", "a".repeat(240));
        assert_eq!(long.len(), 258);
        assert_eq!(host_evidence(&long), None, "longer than DNS allows");
        let just = format!("{}.rds.amazonaws.com", "a".repeat(235));
        assert_eq!(just.len(), 253);
        assert_eq!(host_evidence(&just).map(|(p, _)| p), Some(Platform::AwsRds));
        assert_eq!(
            host_evidence(&format!("{just}.")).map(|(p, _)| p),
            Some(Platform::AwsRds),
            "a trailing dot is not counted"
        );
        // IDN, as typed and as punycode; multi-byte characters at every cut.
        assert_eq!(
            host_evidence("bücher.postgres.database.azure.com").map(|(p, _)| p),
            Some(Platform::AzureFlexible)
        );
        assert_eq!(
            host_evidence("xn--bcher-kva.postgres.database.azure.com").map(|(p, _)| p),
            Some(Platform::AzureFlexible)
        );
        for s in [
            "ü",
            "ü.",
            "üüü.neon.tech",
            "\u{0130}.neon.tech",
            "ß.SUPABASE.CO",
            "neon.tech\u{0}",
            "\u{202e}moc.swanozama.sdr",
            &"ü".repeat(200),
            &".".repeat(300),
        ] {
            let _ = host_evidence(s);
        }
    }

    fn markers(settings: &[&str], aurora: bool, roles: &[&str]) -> Markers {
        Markers {
            provider_settings: settings.iter().map(|s| s.to_string()).collect(),
            aurora_version: aurora,
            provider_roles: roles.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn strongest_evidence_first_roles_are_weak() {
        let d = detect(
            PlatformChoice::Detect,
            Some("x.y.eu-west-1.rds.amazonaws.com"),
            &markers(&["rds.extensions"], false, &["rds_superuser"]),
        );
        assert_eq!(d.name, Some(Platform::AwsRds));
        assert_eq!(d.confidence, Some(Confidence::Strong));
        assert_eq!(
            d.evidence,
            vec![
                "setting rds.extensions".to_string(),
                "host name *.rds.amazonaws.com".into()
            ]
        );
        let aurora = detect(
            PlatformChoice::Detect,
            None,
            &markers(&["rds.extensions"], true, &[]),
        );
        assert_eq!(aurora.name, Some(Platform::AwsAurora));
        let weak = detect(
            PlatformChoice::Detect,
            Some("/tmp"),
            &markers(&[], false, &["cloudsqlsuperuser"]),
        );
        assert_eq!(
            (weak.name, weak.confidence, weak.managed()),
            (Some(Platform::CloudSql), Some(Confidence::Weak), None)
        );
        assert_eq!(
            detect(
                PlatformChoice::Detect,
                Some("db.example.org"),
                &Markers::default()
            ),
            PlatformInfo::default()
        );
        let none = detect(
            PlatformChoice::None,
            Some("x.neon.tech"),
            &markers(&["neon.timeline_id"], false, &[]),
        );
        assert_eq!((none.name, none.managed()), (None, None));
        let given = detect(
            PlatformChoice::Given(Platform::Supabase),
            None,
            &Markers::default(),
        );
        assert_eq!(given.managed(), Some(Platform::Supabase));
        assert_eq!(given.evidence, vec!["--platform supabase".to_string()]);
    }

    #[test]
    fn choice_parses_names() {
        assert_eq!(PlatformChoice::parse("none"), Some(PlatformChoice::None));
        assert_eq!(PlatformChoice::parse("auto"), Some(PlatformChoice::Detect));
        for p in Platform::ALL {
            assert_eq!(
                PlatformChoice::parse(p.name()),
                Some(PlatformChoice::Given(p))
            );
        }
        assert_eq!(PlatformChoice::parse("rds"), None);
    }
}

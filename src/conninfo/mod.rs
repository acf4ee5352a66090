//! TEMPORARY minimal implementation of the agreed API; replaced by the full module.
use std::path::PathBuf;
use std::time::Duration;

pub struct Overrides {
    pub host: Option<String>,
    pub port: Option<String>,
    pub user: Option<String>,
    pub dbname: Option<String>,
    pub service: Option<String>,
    pub connect_timeout: Option<Duration>,
}
#[derive(Clone)]
pub struct Environment {
    vars: std::collections::HashMap<String, String>,
}
impl Environment {
    pub fn from_process() -> Self {
        Environment {
            vars: std::env::vars().collect(),
        }
    }
    pub fn new(vars: impl IntoIterator<Item = (String, String)>, _home: Option<PathBuf>) -> Self {
        Environment {
            vars: vars.into_iter().collect(),
        }
    }
}
#[derive(Clone, Debug)]
pub struct ConnSpec {
    host: String,
    port: String,
    user: String,
    dbname: String,
    password: Option<String>,
    timeout: Duration,
}
#[derive(serde::Serialize, Clone, Debug)]
pub struct Identity {
    pub host: String,
    pub port: String,
    pub dbname: String,
    pub user: String,
}
pub fn resolve(o: &Overrides, env: &Environment) -> anyhow::Result<ConnSpec> {
    let g = |k: &str| env.vars.get(k).cloned();
    let user = o.user.clone().or(g("PGUSER")).unwrap_or("postgres".into());
    Ok(ConnSpec {
        host: o
            .host
            .clone()
            .or(g("PGHOST"))
            .unwrap_or("/var/run/postgresql".into()),
        port: o.port.clone().or(g("PGPORT")).unwrap_or("5432".into()),
        dbname: o.dbname.clone().or(g("PGDATABASE")).unwrap_or(user.clone()),
        user,
        password: g("PGPASSWORD"),
        timeout: o.connect_timeout.unwrap_or(Duration::from_secs(10)),
    })
}
impl ConnSpec {
    pub fn get(&self, key: &str) -> Option<&str> {
        match key {
            "host" => Some(&self.host),
            "port" => Some(&self.port),
            _ => None,
        }
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn dbname(&self) -> &str {
        &self.dbname
    }
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
    pub fn set_password(&mut self, password: String) {
        self.password = Some(password)
    }
    pub fn warnings(&self) -> &[String] {
        &[]
    }
    pub fn target_label(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.dbname)
    }
    pub fn identity(&self) -> Identity {
        Identity {
            host: self.host.clone(),
            port: self.port.clone(),
            dbname: self.dbname.clone(),
            user: self.user.clone(),
        }
    }
    pub fn config(&self) -> anyhow::Result<postgres::Config> {
        let mut c = postgres::Config::new();
        c.host(&self.host)
            .port(self.port.parse()?)
            .user(&self.user)
            .dbname(&self.dbname);
        c.application_name("pgconn").connect_timeout(self.timeout);
        if let Some(p) = &self.password {
            c.password(p);
        }
        Ok(c)
    }
    pub fn connect(&self, extra_options: Option<&str>) -> anyhow::Result<postgres::Client> {
        let mut c = self.config()?;
        if let Some(o) = extra_options {
            c.options(o);
        }
        Ok(c.connect(postgres::NoTls)?)
    }
}
pub fn redact(text: &str) -> String {
    text.to_string()
}

//! `bridge serve`'s settings: defaults that need nothing, then a TOML file, then
//! `MADOGUCHI_*` environment variables, then flags — each later layer wins.
//!
//! The file is `--config FILE`, else `bridge.toml` in the data directory when it exists.
//! `bridge serve` alone runs the simulator (練習モード: every terminal says so), on loopback
//! port 8443, with no frontend directory (the bridge then serves the frontend embedded at
//! build time, if any). Settings that name a 医療機関コード are a real clinic's: they must
//! also name the gateway, or `serve` refuses to start rather than confirm against fiction.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The 医療機関コード the simulator writes when none is set: made up, never leaves the bridge.
const SIMULATOR_INSTITUTION_CODE: &str = "1312345678";

/// Which national-system backend to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum GatewayKind {
    /// The built-in simulator (demos, training, tests).
    Sim,
    /// The 資格確認端末's `req/`, `res/`, `face/` folders.
    Folder,
}

/// Everything `serve` needs, after all layers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub port: u16,
    /// LAN names or addresses tablets use; empty = loopback only.
    pub lan_names: Vec<String>,
    /// A built frontend directory (Trunk's `dist/`), served instead of the embedded one.
    pub frontend: Option<PathBuf>,
    /// Unset means the simulator, and only when no 医療機関コード is set either.
    pub gateway: Option<GatewayKind>,
    /// The share holding `req/ res/ face/` (gateway = "folder").
    pub folder: Option<PathBuf>,
    /// 医療機関コード (10 digits) written into request files; required by the folder
    /// gateway. The simulator uses a made-up one when unset.
    pub medical_institution_code: Option<String>,
    /// How long a lookup waits for its answer file.
    pub lookup_timeout_s: u64,
    /// How often pending 事後確認 lookups are retried.
    pub follow_up_interval_s: u64,
    /// Copy every file the folder gateway reads into `<data dir>/archive/YYYYMMDD/`. Off
    /// by default: the files stay in the 資格確認端末's folders either way.
    pub archive_copies: bool,
    /// A policy override file (TOML): its sections replace the embedded table's, for the
    /// bridge's decisions and every paired terminal.
    pub policy: Option<PathBuf>,
    /// After how many days a 事後確認 the system has not answered definitively becomes
    /// 要対応 for staff.
    pub follow_up_max_days: u32,
    /// `HH:MM` (Japan): every evening at this time the 一括照会 of the next day's bookings
    /// runs (unset: only `bridge bulk run`).
    pub bulk_time: Option<String>,
    /// Where `serve` puts its daily backup (a folder apart from the data directory: another
    /// disk or a NAS); unset: no automatic backup.
    pub backup_dir: Option<PathBuf>,
    /// How many daily backups `serve` keeps there.
    pub backup_keep: u32,
    /// Encrypt the daily backups with this key file (`bridge backup --new-key`).
    pub backup_key: Option<PathBuf>,
    /// Terminals lock after this many minutes without a touch or key (1–60; the
    /// guideline's "clear the screen when staff step away").
    pub lock_after_minutes: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 8443,
            lan_names: Vec::new(),
            frontend: None,
            gateway: None,
            folder: None,
            medical_institution_code: None,
            lookup_timeout_s: 30,
            follow_up_interval_s: 30,
            archive_copies: false,
            policy: None,
            follow_up_max_days: 7,
            bulk_time: None,
            backup_dir: None,
            backup_keep: 7,
            backup_key: None,
            lock_after_minutes: 5,
        }
    }
}

/// A setting that cannot be used; the message names the source and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("設定ファイル {path} を読めません: {message} / cannot read the config file")]
    Read { path: PathBuf, message: String },
    #[error("設定ファイル {path} の書式が違います: {message} / the config file is not valid")]
    Syntax { path: PathBuf, message: String },
    #[error("環境変数 {name} の値が違います: {message} / bad environment variable")]
    Env { name: &'static str, message: String },
    #[error("gateway = \"folder\" には folder（req/ res/ face/ のある場所）が必要です / the folder gateway needs `folder`")]
    FolderMissing,
    #[error("医療機関コードは10桁の数字です / the medical institution code must be 10 digits")]
    InstitutionCode,
    #[error("医療機関コードが設定されていますが gateway がありません。資格確認端末を使うなら gateway = \"folder\"、練習なら gateway = \"sim\" と書いてください / a medical institution code is set but no gateway: write gateway = \"folder\" (or \"sim\" for training)")]
    GatewayUnset,
    #[error("bulk_time は HH:MM（日本時間）で書いてください / bulk_time must be HH:MM (Japan)")]
    BulkTime,
    #[error("gateway = \"folder\" には医療機関コード (medical_institution_code) が必要です / the folder gateway needs medical_institution_code")]
    InstitutionCodeMissing,
}

/// `HH:MM` → minutes after midnight.
fn minutes_of(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && text.trim().len() == 5).then_some(h * 60 + m)
}

impl Config {
    /// The file layer: `explicit` must exist; `<data_dir>/bridge.toml` is optional.
    pub fn load(explicit: Option<&Path>, data_dir: &Path) -> Result<Config, ConfigError> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => (data_dir.join("bridge.toml"), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| ConfigError::Syntax { path, message: e.to_string() }),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Config::default())
            }
            Err(e) => Err(ConfigError::Read { path, message: e.to_string() }),
        }
    }

    /// The environment layer, from `get` (the process environment in `serve`).
    pub fn apply_env(
        mut self,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        fn number<T: std::str::FromStr>(name: &'static str, v: &str) -> Result<T, ConfigError> {
            v.trim()
                .parse()
                .map_err(|_| ConfigError::Env { name, message: format!("{v:?} is not a number") })
        }
        if let Some(v) = get("MADOGUCHI_PORT") {
            self.port = number("MADOGUCHI_PORT", &v)?;
        }
        if let Some(v) = get("MADOGUCHI_LAN_NAMES") {
            self.lan_names =
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        }
        if let Some(v) = get("MADOGUCHI_FRONTEND") {
            self.frontend = Some(PathBuf::from(v));
        }
        if let Some(v) = get("MADOGUCHI_GATEWAY") {
            self.gateway = match v.trim() {
                "sim" => Some(GatewayKind::Sim),
                "folder" => Some(GatewayKind::Folder),
                other => {
                    return Err(ConfigError::Env {
                        name: "MADOGUCHI_GATEWAY",
                        message: format!("{other:?}: use sim or folder"),
                    })
                }
            };
        }
        if let Some(v) = get("MADOGUCHI_FOLDER") {
            self.folder = Some(PathBuf::from(v));
        }
        if let Some(v) = get("MADOGUCHI_INSTITUTION_CODE") {
            self.medical_institution_code = Some(v.trim().to_string());
        }
        if let Some(v) = get("MADOGUCHI_POLICY") {
            self.policy = Some(PathBuf::from(v));
        }
        if let Some(v) = get("MADOGUCHI_FOLLOW_UP_INTERVAL_S") {
            self.follow_up_interval_s = number("MADOGUCHI_FOLLOW_UP_INTERVAL_S", &v)?;
        }
        Ok(self)
    }

    /// Checks the combination; called after the last layer. Afterwards `gateway` and
    /// `medical_institution_code` are set.
    pub fn validated(mut self) -> Result<Config, ConfigError> {
        let gateway = match (self.gateway, &self.medical_institution_code) {
            (None, Some(_)) => return Err(ConfigError::GatewayUnset),
            (None, None) => GatewayKind::Sim,
            (Some(g), _) => g,
        };
        if gateway == GatewayKind::Folder {
            if self.folder.is_none() {
                return Err(ConfigError::FolderMissing);
            }
            if self.medical_institution_code.is_none() {
                return Err(ConfigError::InstitutionCodeMissing);
            }
        }
        let code =
            self.medical_institution_code.get_or_insert_with(|| SIMULATOR_INSTITUTION_CODE.into());
        if code.len() != 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::InstitutionCode);
        }
        if self.bulk_time.as_deref().is_some_and(|t| minutes_of(t).is_none()) {
            return Err(ConfigError::BulkTime);
        }
        self.gateway = Some(gateway);
        Ok(self)
    }

    /// Minutes after midnight (Japan) of the evening 一括照会, when one is set.
    pub fn bulk_minutes(&self) -> Option<u32> {
        self.bulk_time.as_deref().and_then(minutes_of)
    }

    /// The gateway to run (the simulator until [`Config::validated`] says otherwise).
    pub fn gateway_kind(&self) -> GatewayKind {
        self.gateway.unwrap_or(GatewayKind::Sim)
    }

    /// The 医療機関コード written into request files (after [`Config::validated`]).
    pub fn institution_code(&self) -> &str {
        self.medical_institution_code.as_deref().unwrap_or(SIMULATOR_INSTITUTION_CODE)
    }

    pub fn lookup_timeout(&self) -> Duration {
        Duration::from_secs(self.lookup_timeout_s.max(1))
    }

    pub fn follow_up_interval(&self) -> Duration {
        Duration::from_secs(self.follow_up_interval_s.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bridge.toml"),
            "port = 9000\ngateway = \"folder\"\nfolder = \"/srv/oqs\"\n",
        )
        .unwrap();
        let c = Config::load(None, dir.path()).unwrap();
        assert_eq!((c.port, c.gateway), (9000, Some(GatewayKind::Folder)));
        let c =
            c.apply_env(env(&[("MADOGUCHI_PORT", "9100"), ("MADOGUCHI_GATEWAY", "sim")])).unwrap();
        assert_eq!((c.port, c.gateway), (9100, Some(GatewayKind::Sim)));
        assert_eq!(c.folder.as_deref(), Some(Path::new("/srv/oqs")));
    }

    #[test]
    fn the_evening_bulk_time_is_hh_mm() {
        let at = |t: &str| Config { bulk_time: Some(t.into()), ..Config::default() }.validated();
        assert_eq!(at("19:30").unwrap().bulk_minutes(), Some(19 * 60 + 30));
        for bad in ["7pm", "24:00", "19:60", "9:30", ""] {
            assert!(matches!(at(bad), Err(ConfigError::BulkTime)), "{bad:?}");
        }
        assert_eq!(Config::default().bulk_minutes(), None);
    }

    #[test]
    fn no_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(None, dir.path()).unwrap(), Config::default());
        assert!(Config::default().validated().is_ok());
    }

    #[test]
    fn bad_settings_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        assert!(matches!(Config::load(Some(&missing), dir.path()), Err(ConfigError::Read { .. })));
        std::fs::write(dir.path().join("bridge.toml"), "prot = 1\n").unwrap();
        assert!(matches!(Config::load(None, dir.path()), Err(ConfigError::Syntax { .. })));
        let e = Config::default().apply_env(env(&[("MADOGUCHI_PORT", "eighty")])).unwrap_err();
        assert!(e.to_string().contains("MADOGUCHI_PORT"), "{e}");
        let folder = Config { gateway: Some(GatewayKind::Folder), ..Config::default() };
        assert!(matches!(folder.validated(), Err(ConfigError::FolderMissing)));
        let code = Config {
            gateway: Some(GatewayKind::Sim),
            medical_institution_code: Some("12345".into()),
            ..Config::default()
        };
        assert!(matches!(code.validated(), Err(ConfigError::InstitutionCode)));
    }

    /// A clinic's settings (a 医療機関コード) with the gateway forgotten must not run the
    /// simulator: the patients would be confirmed against fiction.
    #[test]
    fn an_institution_code_without_a_gateway_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bridge.toml"),
            "medical_institution_code = \"1310000001\"\n",
        )
        .unwrap();
        let c = Config::load(None, dir.path()).unwrap();
        let e = c.validated().unwrap_err();
        assert!(matches!(e, ConfigError::GatewayUnset), "{e}");
        assert!(e.to_string().contains("gateway = \"folder\""), "{e}");
        let folder_without_code = Config {
            gateway: Some(GatewayKind::Folder),
            folder: Some("/srv/oqs".into()),
            ..Config::default()
        };
        assert!(matches!(
            folder_without_code.validated(),
            Err(ConfigError::InstitutionCodeMissing)
        ));
        let sim = Config::default().validated().unwrap();
        assert_eq!((sim.gateway_kind(), sim.institution_code()), (GatewayKind::Sim, "1312345678"));
    }
}

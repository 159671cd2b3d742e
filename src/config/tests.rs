//! The settings' defaults, validation, and their documentation in the README and `.env.example`.

use super::*;

#[test]
fn defaults_are_embedded_and_valid() {
    let config = Config::default();
    assert_eq!(config.mode(), Mode::Embedded);
    config.validate().unwrap();
    assert!(config.effective_database_url().starts_with("sqlite://"));
    assert!(config.graphiql_enabled());
}

#[test]
fn production_requires_a_strong_jwt_secret() {
    let mut config = Config {
        database_url: Some("postgres://localhost/portico".into()),
        ..Config::default()
    };
    assert!(config.validate().is_err());
    config.jwt_secret = Some(Secret::new("short"));
    assert!(config.validate().is_err());
    config.jwt_secret = Some(Secret::new("x".repeat(32)));
    let without_redis = config.validate().unwrap_err().to_string();
    assert!(without_redis.contains("SINGLE_INSTANCE"), "{without_redis}");
    config.single_instance = true;
    config.validate().unwrap();
    config.single_instance = false;
    config.redis_url = Some("redis://127.0.0.1:6379".into());
    config.validate().unwrap();
    assert!(!config.graphiql_enabled());
}

#[test]
fn secrets_are_not_printed() {
    let config = Config {
        jwt_secret: Some(Secret::new("super-secret-value-of-32-bytes!!")),
        ..Config::default()
    };
    assert!(!format!("{config:?}").contains("super-secret"));
}

#[test]
fn every_setting_is_documented_and_read_from_the_environment() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../../.env.example");
    for key in Config::keys().unwrap() {
        let var = key.to_uppercase();
        assert!(
            readme.contains(&format!("`{var}`")),
            "{var} missing from README.md"
        );
        assert!(example.contains(&var), "{var} missing from .env.example");
    }
}

#[test]
fn cors_origins_are_split() {
    let config = Config {
        cors_allowed_origins: "https://a.example, https://b.example,".into(),
        ..Config::default()
    };
    assert_eq!(config.cors_origins().len(), 2);
}

#[test]
fn the_compose_file_sets_only_settings_portico_reads() {
    let compose = include_str!("../../docker-compose.yml");
    let keys = Config::keys().unwrap();
    let mut lines = compose.lines().skip_while(|l| !l.contains("&portico-env"));
    let anchor = lines
        .next()
        .expect("docker-compose.yml has an &portico-env block");
    let indent = anchor.len() - anchor.trim_start().len();
    let mut seen = 0;
    for line in lines.take_while(|l| l.len() - l.trim_start().len() > indent) {
        let name = line.trim().split(':').next().unwrap_or_default();
        seen += 1;
        assert!(
            name == "RUST_LOG" || keys.iter().any(|k| k.eq_ignore_ascii_case(name)),
            "docker-compose.yml sets {name}, which Portico does not read"
        );
    }
    assert!(seen >= 3, "the &portico-env block was not read");
}

#[test]
fn refill_rates_take_fractions_and_whole_numbers() {
    let dir = std::env::temp_dir().join(format!("portico-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("portico.toml");
    std::fs::write(
        &file,
        "rate_limit_refill_per_sec = 0.5\nrate_limit_anonymous_refill_per_sec = 20\n",
    )
    .unwrap();
    let config = Config::load(Some(&file)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!((config.rate_limit_refill_per_sec - 0.5).abs() < f64::EPSILON);
    assert!((config.rate_limit_anonymous_refill_per_sec - 20.0).abs() < f64::EPSILON);
}

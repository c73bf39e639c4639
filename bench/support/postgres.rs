//! What the benches that use PostgreSQL share.

/// A fresh database on the server at `url`.
pub fn fresh_database(runtime: &tokio::runtime::Runtime, url: &str, name: &str) -> String {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    runtime.block_on(async {
        let mut admin = sqlx::AnyConnection::connect(url).await.unwrap();
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    });
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{name}")
}

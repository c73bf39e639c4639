//! Following `Marker` / `NextMarker` pages until the end or a caller's `limit`.

use std::future::Future;

use keyflow_engine::block::BlockError;

/// The page size asked of ListKeys (AWS allows 1–1000).
pub const KEYS: usize = 100;
/// The page size asked of ListAliases (AWS allows 1–100).
pub const ALIASES: usize = 100;
/// The page size asked of ListResourceTags (AWS allows only 1–50: moto ignored a 100, the twin refuses it
/// as AWS does).
pub const TAGS: usize = 50;

/// One page: its entries and, when AWS says it is truncated, the marker of the next one.
pub struct Page<T> {
    /// The entries.
    pub entries: Vec<T>,
    /// The next page's marker.
    pub next: Option<String>,
}

/// Every entry of every page of at most `page` entries, at most `limit` in all (`None`: no limit).
/// `fetch(marker, page_size)` asks for one page.
pub async fn all<T, F, Fut>(
    limit: Option<u32>,
    page: usize,
    mut fetch: F,
) -> Result<Vec<T>, BlockError>
where
    F: FnMut(Option<String>, i32) -> Fut,
    Fut: Future<Output = Result<Page<T>, BlockError>>,
{
    let limit = limit.map_or(usize::MAX, |l| l as usize);
    let mut entries = Vec::new();
    let mut marker = None;
    while entries.len() < limit {
        let size = (limit - entries.len()).min(page) as i32;
        let answer = fetch(marker.take(), size).await?;
        entries.extend(answer.entries);
        match answer.next {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    entries.truncate(limit);
    Ok(entries)
}

/// The next marker of a response, when it says it is truncated.
pub fn next(truncated: bool, marker: Option<&str>) -> Option<String> {
    marker.filter(|_| truncated).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn numbers(total: usize, limit: Option<u32>, page: usize) -> (Vec<usize>, Vec<i32>) {
        let mut sizes = Vec::new();
        let entries = all(limit, page, |marker: Option<String>, size| {
            sizes.push(size);
            let start: usize = marker.map_or(0, |m| m.parse().unwrap_or(0));
            let end = (start + size as usize).min(total);
            async move {
                Ok(Page {
                    entries: (start..end).collect(),
                    next: (end < total).then(|| end.to_string()),
                })
            }
        })
        .await
        .unwrap_or_default();
        (entries, sizes)
    }

    #[tokio::test]
    async fn every_page_is_read_and_the_limit_caps_the_total() {
        let (entries, sizes) = numbers(250, None, KEYS).await;
        assert_eq!(entries, (0..250).collect::<Vec<_>>());
        assert_eq!(sizes, [100, 100, 100]);
        let (entries, sizes) = numbers(250, Some(120), KEYS).await;
        assert_eq!(entries.len(), 120);
        assert_eq!(sizes, [100, 20]);
        let (_, sizes) = numbers(120, None, TAGS).await;
        assert_eq!(sizes, [50, 50, 50]);
        let (entries, _) = numbers(0, Some(5), KEYS).await;
        assert!(entries.is_empty());
    }
}

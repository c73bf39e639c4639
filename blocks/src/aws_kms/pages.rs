//! Following `Marker` / `NextMarker` pages until the end or a caller's `limit`.

use std::future::Future;

use keyflow_engine::block::BlockError;

/// The most entries AWS returns in one page of ListKeys, ListAliases and ListResourceTags.
const PAGE: usize = 100;

/// One page: its entries and, when AWS says it is truncated, the marker of the next one.
pub struct Page<T> {
    /// The entries.
    pub entries: Vec<T>,
    /// The next page's marker.
    pub next: Option<String>,
}

/// Every entry of every page, at most `limit` in all (`None`: no limit). `fetch(marker, page_size)` asks
/// for one page.
pub async fn all<T, F, Fut>(limit: Option<u32>, mut fetch: F) -> Result<Vec<T>, BlockError>
where
    F: FnMut(Option<String>, i32) -> Fut,
    Fut: Future<Output = Result<Page<T>, BlockError>>,
{
    let limit = limit.map_or(usize::MAX, |l| l as usize);
    let mut entries = Vec::new();
    let mut marker = None;
    while entries.len() < limit {
        let size = (limit - entries.len()).min(PAGE) as i32;
        let page = fetch(marker.take(), size).await?;
        entries.extend(page.entries);
        match page.next {
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

    async fn numbers(total: usize, limit: Option<u32>) -> (Vec<usize>, Vec<i32>) {
        let mut sizes = Vec::new();
        let entries = all(limit, |marker: Option<String>, size| {
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
        let (entries, sizes) = numbers(250, None).await;
        assert_eq!(entries, (0..250).collect::<Vec<_>>());
        assert_eq!(sizes, [100, 100, 100]);
        let (entries, sizes) = numbers(250, Some(120)).await;
        assert_eq!(entries.len(), 120);
        assert_eq!(sizes, [100, 20]);
        let (entries, _) = numbers(0, Some(5)).await;
        assert!(entries.is_empty());
    }
}

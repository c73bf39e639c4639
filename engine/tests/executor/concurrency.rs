//! 2. Concurrency bounds.

use super::*;

fn independent_steps(n: usize) -> String {
    let mut yaml = String::from("name: wide\nsteps:\n");
    for k in 0..n {
        yaml.push_str(&format!(
            "  - id: s{k}\n    block: test.work\n    with: {{ label: s{k}, ms: 1000 }}\n"
        ));
    }
    yaml
}

#[tokio::test(start_paused = true)]
async fn the_run_parallelism_bounds_independent_steps() {
    for parallelism in [1, 2, 3] {
        let probe = Arc::new(Probe::default());
        let options = ExecOptions {
            parallelism,
            ..options()
        };
        let out = run_with(
            &independent_steps(6),
            &probe,
            options,
            CancellationToken::new(),
        )
        .await;
        assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
        assert_eq!(
            probe.max.load(Ordering::SeqCst),
            parallelism,
            "with parallelism {parallelism}, the most calls at once"
        );
        assert_eq!(lock(&probe.spans).len(), 6);
        // Six one-second calls, `parallelism` at a time.
        assert_eq!(out.took, Duration::from_secs(6 / parallelism as u64));
    }
}

#[tokio::test(start_paused = true)]
async fn for_each_concurrency_bounds_items_and_the_run_parallelism_bounds_them_too() {
    let flow = |concurrency: usize| {
        format!(
            r#"
            name: items
            steps:
              - id: each
                block: test.work
                for_each: [0, 1, 2, 3, 4, 5, 6, 7]
                concurrency: {concurrency}
                with: {{ label: "item-{{{{item}}}}", ms: 1000 }}
            "#
        )
    };
    let cases = [
        // (concurrency, parallelism, most at once)
        (3, 16, 3),
        (1, 16, 1),
        (4, 2, 2),
    ];
    for (concurrency, parallelism, expected) in cases {
        let probe = Arc::new(Probe::default());
        let options = ExecOptions {
            parallelism,
            ..options()
        };
        let out = run_with(
            &flow(concurrency),
            &probe,
            options,
            CancellationToken::new(),
        )
        .await;
        assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
        assert_eq!(
            probe.max.load(Ordering::SeqCst),
            expected,
            "concurrency {concurrency}, parallelism {parallelism}"
        );
        assert_eq!(out.step("each").items, Some(8));
        assert_eq!(out.step("each").attempts, 8);
        assert_eq!(
            out.took,
            Duration::from_secs(8_u64.div_ceil(expected as u64))
        );
    }
}

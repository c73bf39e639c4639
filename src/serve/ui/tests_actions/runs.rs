//! The run page's buttons: cancel a run under way, resume it, re-run a run that ended from a step (a new
//! run that reuses the earlier one's results, as the store shows), and what each refuses.

use keyflow_engine::exec::report::Status;
use keyflow_store::{FiringStatus, Rerun, RunState};

use super::{Client, fixture, run_of};

/// Starts a run of `flow` from its page; its id.
async fn start(browser: &mut Client, flow: &str) -> String {
    let page = browser.get(&format!("/ui/flows/{flow}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let answer = browser
        .post(&format!("/ui/flows/{flow}/runs"), &[("csrf", &page.csrf())])
        .await;
    run_of(&answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_under_way_is_cancelled_and_resumed_and_what_cannot_be_done_is_said() {
    let fixture = fixture(None).await;
    let mut browser = fixture.browser();
    let id = start(&mut browser, "nap").await;
    fixture.running(&id).await;
    let page = browser.get(&format!("/ui/runs/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let cancel = format!("<form class=\"action\" method=\"post\" action=\"/ui/runs/{id}/cancel\">");
    assert!(page.body.contains(&cancel), "{}", page.body);
    assert!(
        !page.body.contains("class=\"rerun\""),
        "no re-run while it runs"
    );
    let csrf = page.csrf();

    let answer = browser
        .post(&format!("/ui/runs/{id}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(run_of(&answer), id);
    let run = fixture.ended(&id).await;
    assert_eq!(run.summary.status, RunState::Cancelled);

    // Ended: nothing to cancel (409); it may be resumed and re-run now.
    let answer = browser
        .post(&format!("/ui/runs/{id}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(
        answer.body.contains("already ended (cancelled)"),
        "{}",
        answer.body
    );
    let page = browser.get(&format!("/ui/runs/{id}")).await;
    assert!(!page.body.contains(&cancel));
    assert!(
        page.body.contains(&format!(
            "<form class=\"action\" method=\"post\" action=\"/ui/runs/{id}/resume\">"
        )),
        "{}",
        page.body
    );
    let answer = browser
        .post(&format!("/ui/runs/{id}/resume"), &[("csrf", &csrf)])
        .await;
    assert_eq!(run_of(&answer), id, "a resumed run keeps its id");
    let firing = fixture
        .daemon
        .store
        .firing_of_run(&id)
        .await
        .unwrap()
        .unwrap();
    assert!(firing.asked && firing.resume);
    fixture.running(&id).await;
    // Going on again: a second resume is refused, and a re-run too.
    let answer = browser
        .post(&format!("/ui/runs/{id}/resume"), &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    let answer = browser
        .post(
            &format!("/ui/runs/{id}/rerun"),
            &[("csrf", &csrf), ("step", "sleep")],
        )
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(answer.body.contains("still running"), "{}", answer.body);
    let answer = browser
        .post(&format!("/ui/runs/{id}/cancel"), &[("csrf", &csrf)])
        .await;
    run_of(&answer);
    fixture.ended(&id).await;

    // A run asked for that no daemon took yet: a page that reloads itself; once it will never start, why.
    let waiting = fixture
        .daemon
        .store
        .request_run("not-served-here", &serde_json::json!({}), false)
        .await
        .unwrap();
    let answer = browser.get(&format!("/ui/runs/{}", waiting.run_id)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("It has not started yet (its firing is pending)"),
        "{}",
        answer.body
    );
    assert_eq!(
        answer.headers.get("refresh").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let answer = browser
        .post(
            &format!("/ui/runs/{}/cancel", waiting.run_id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(run_of(&answer), waiting.run_id);
    let answer = browser.get(&format!("/ui/runs/{}", waiting.run_id)).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("It did not start: cancelled before it started."),
        "{}",
        answer.body
    );
    assert!(answer.headers.get("refresh").is_none());

    // Unknown runs and actions: 404 pages.
    let answer = browser
        .post("/ui/runs/no-such-run/cancel", &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert!(
        answer.body.contains("No run `no-such-run`"),
        "{}",
        answer.body
    );
    let answer = browser
        .post(
            "/ui/runs/no-such-run/rerun",
            &[("csrf", &csrf), ("step", "a")],
        )
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    let answer = browser
        .post(&format!("/ui/runs/{id}/explode"), &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_from_a_step_is_a_new_run_reusing_the_results_before_it() {
    let fixture = fixture(None).await;
    let mut browser = fixture.browser();
    let id = start(&mut browser, "chain").await;
    assert_eq!(fixture.ended(&id).await.summary.status, RunState::Succeeded);

    // Each step of a run that ended has its form, inside its details.
    let page = browser.get(&format!("/ui/runs/{id}")).await;
    let form = format!("<form class=\"rerun\" method=\"post\" action=\"/ui/runs/{id}/rerun\">");
    assert_eq!(page.body.matches(&form).count(), 3, "{}", page.body);
    let details = page.body.find("id=\"step-b\"").unwrap();
    let hidden = page
        .body
        .find("<input type=\"hidden\" name=\"step\" value=\"b\">")
        .unwrap();
    assert!(hidden > details && page.body[details..hidden].find("</details>").is_none());
    assert!(
        page.body
            .contains("<button type=\"submit\">Re-run from this step</button>")
    );
    assert!(
        !page.body.contains("name=\"confirm\""),
        "nothing destructive"
    );
    let csrf = page.csrf();

    let answer = browser
        .post(
            &format!("/ui/runs/{id}/rerun"),
            &[("csrf", &csrf), ("step", "b")],
        )
        .await;
    let new = run_of(&answer);
    assert_ne!(new, id);
    let firing = fixture
        .daemon
        .store
        .firing_of_run(&new)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        firing.rerun,
        Some(Rerun {
            from: id.clone(),
            steps: vec!["b".into()]
        })
    );
    assert!(!firing.allow_destructive);
    let run = fixture.ended(&new).await;
    assert_eq!(run.summary.status, RunState::Succeeded);
    let step = |id: &str| run.report.steps.iter().find(|s| s.id == id).unwrap();
    // `a` stands as the earlier run recorded it; `b` and what follows it ran again.
    assert!(
        step("a").reused && step("a").status == Status::Succeeded,
        "{:?}",
        step("a")
    );
    assert!(!step("b").reused && step("b").status == Status::Succeeded);
    assert!(!step("c").reused && step("c").status == Status::Succeeded);
    assert_eq!(
        run.attempts
            .iter()
            .map(|a| a.step.as_str())
            .collect::<Vec<_>>(),
        ["b", "c"]
    );
    let page = browser.get(&format!("/ui/runs/{new}")).await;
    assert!(
        page.body.contains("reused from an earlier attempt"),
        "{}",
        page.body
    );
    let done = fixture
        .daemon
        .store
        .firing_of_run(&new)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, FiringStatus::Done);

    // A step the flow does not have: 422, named (and escaped).
    let answer = browser
        .post(
            &format!("/ui/runs/{id}/rerun"),
            &[("csrf", &csrf), ("step", "<b>nope</b>")],
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("has no step `&lt;b&gt;nope&lt;/b&gt;`"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("<b>nope"));
    let answer = browser
        .post(&format!("/ui/runs/{id}/rerun"), &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    // A run that succeeded has nothing to resume.
    let answer = browser
        .post(&format!("/ui/runs/{id}/resume"), &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("succeeded: there is nothing to resume"),
        "{}",
        answer.body
    );
}

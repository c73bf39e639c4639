//! A flow's page: its form generated from its params, what is typed checked as the API checks it and
//! shown again next to each field when wrong, the plan view, files not served with their source lines,
//! the typed confirmation of destructive steps, and markup from a flow or a form never run.

use keyflow_store::RunState;
use serde_json::json;

use super::{fixture, run_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_form_is_made_from_the_params_and_what_is_typed_is_checked() {
    let fixture = fixture(None).await;
    let mut browser = fixture.browser();
    let flows = browser.get("/ui/flows").await;
    assert!(
        flows.body.contains("<a href=\"/ui/flows/greet\">greet</a>"),
        "{}",
        flows.body
    );

    let page = browser.get("/ui/flows/greet").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    for part in [
        "<h1>Flow <code>greet</code></h1>",
        "Greets &lt;b&gt;someone&lt;/b&gt;.",
        "<form id=\"start-run\" method=\"post\" action=\"/ui/flows/greet/runs\"",
        // A string: text, required, its pattern as a browser reads it, its description as help.
        "<input type=\"text\" id=\"param-who\" name=\"param.who\" value=\"\" pattern=\".*(?:^[a-z]+$).*\" required",
        "<code>who</code> <span class=\"req\">(required)</span>",
        "whom to &lt;greet&gt;",
        // An enum: a select, its default chosen.
        "<select id=\"param-times\" name=\"param.times\"",
        "<option value=\"1\" selected>1</option><option value=\"2\">2</option>",
        // A boolean: a checkbox after a hidden `false`.
        "<input type=\"hidden\" name=\"param.loud\" value=\"false\"><span><input type=\"checkbox\" id=\"param-loud\" name=\"param.loud\" value=\"true\"",
        // An object: JSON in a textarea.
        "<textarea id=\"param-extra\" name=\"param.extra\"",
        "<button type=\"submit\" id=\"start\" class=\"primary\">Start run</button>",
        "formaction=\"/ui/flows/greet/plan\"",
        "Step graph of greet",
        "No runs yet.",
    ] {
        assert!(body.contains(part), "{part}\n{body}");
    }
    assert!(body.contains("&quot;tag&quot;: &quot;x&quot;"), "{body}");
    let csrf = page.csrf();

    // Wrong values: 422, each problem next to its field, what was typed kept.
    let answer = browser
        .post(
            "/ui/flows/greet/runs",
            &[
                ("csrf", &csrf),
                ("param.who", "Ada"),
                ("param.times", "5"),
                ("param.extra", "[1"),
                ("param.whom", "x"),
            ],
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    let body = &answer.body;
    for part in [
        "<span class=\"field-error\" id=\"param-who-error\">`Ada` does not match `^[a-z]+$`</span>",
        "<span class=\"field-error\" id=\"param-times-error\">`5` is not one of `1`, `2`, `3`</span>",
        "id=\"param-extra-error\">`[1` is not an object",
        "parameter `whom`: the flow has no such parameter; did you mean `who`?",
        "name=\"param.who\" value=\"Ada\"",
        ">[1</textarea>",
        "aria-invalid=\"true\"",
    ] {
        assert!(body.contains(part), "{part}\n{body}");
    }
    // Missing the required one: named.
    let answer = browser
        .post(
            "/ui/flows/greet/runs",
            &[("csrf", &csrf), ("param.who", "")],
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("id=\"param-who-error\">required: fill it in"),
        "{}",
        answer.body
    );
    assert!(
        fixture
            .daemon
            .store
            .firings(Some("greet"), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Right values: typed JSON, a run, 303 to it.
    let answer = browser
        .post(
            "/ui/flows/greet/runs",
            &[
                ("csrf", &csrf),
                ("param.who", "ada"),
                ("param.times", "2"),
                ("param.loud", "false"),
                ("param.loud", "true"),
                ("param.extra", "{\"tag\": \"y\", \"n\": [1]}"),
            ],
        )
        .await;
    let id = run_of(&answer);
    let firing = fixture
        .daemon
        .store
        .firing_of_run(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        firing.params,
        json!({"who": "ada", "times": 2, "loud": true, "extra": {"tag": "y", "n": [1]}})
    );
    let run = fixture.ended(&id).await;
    assert_eq!(run.summary.status, RunState::Succeeded);
    assert_eq!(run.report.outputs["text"], "hello ada");
    let shout = run.report.steps.iter().find(|s| s.id == "shout").unwrap();
    assert_eq!(shout.status.name(), "succeeded");
    let page = browser.get("/ui/flows/greet").await;
    assert!(
        page.body.contains(&format!("href=\"/ui/runs/{id}\"")),
        "{}",
        page.body
    );

    // Unknown flows: 404 pages.
    let answer = browser.get("/ui/flows/gret").await;
    assert_eq!(answer.status, 404);
    assert!(
        answer.body.contains("did you mean `greet`?"),
        "{}",
        answer.body
    );
    let answer = browser
        .post("/ui/flows/gret/runs", &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, 404);
    let answer = browser.get("/ui/flows/gret/plan").await;
    assert_eq!(answer.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_view_shows_what_a_run_would_do_and_files_not_served_show_their_lines() {
    let fixture = fixture(None).await;
    let mut browser = fixture.browser();
    let answer = browser
        .get("/ui/flows/greet/plan?param.who=ada&param.times=2&param.loud=false&param.loud=true&csrf=x")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = &answer.body;
    for part in [
        "<h1>Plan of <code>greet</code></h1>",
        "<strong>say</strong> <code>core.set</code>",
        "&quot;text&quot;: &quot;hello ada&quot;",
        "&quot;times&quot;: 2",
        "after <code>say</code>",
        "only if <code>{ path: $.params.loud, equals: true }</code> holds",
        "recovery: ",
        "name=\"param.who\" value=\"ada\"",
    ] {
        assert!(body.contains(part), "{part}\n{body}");
    }
    assert!(
        fixture
            .daemon
            .store
            .firings(None, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing ran"
    );
    // Params left out are placeholders; a wrong one is refused, next to its field.
    for path in [
        "/ui/flows/greet/plan",
        "/ui/flows/greet/plan?param.who=&param.times=1",
    ] {
        let answer = browser.get(path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert!(answer.body.contains("hello &lt;who&gt;"), "{}", answer.body);
    }
    let answer = browser.get("/ui/flows/greet/plan?param.times=7").await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("id=\"param-times-error\">`7` is not one of"),
        "{}",
        answer.body
    );

    // A destructive step is said so, with what starting needs.
    let answer = browser.get("/ui/flows/retire/plan").await;
    assert!(
        answer
            .body
            .contains("<strong class=\"diag\">destructive</strong>")
            && answer
                .body
                .contains("1 destructive step</strong> (<code>disable</code>)"),
        "{}",
        answer.body
    );

    // A file not served: linked from the flows page, its diagnostic at its line with a caret.
    let flows = browser.get("/ui/flows").await;
    let at = flows.body.find("<a href=\"/ui/files?path=").unwrap();
    let link = &flows.body[at + "<a href=\"".len()..];
    let link = &link[..link.find('"').unwrap()];
    assert!(link.ends_with("broken.yaml"), "{link}");
    let answer = browser.get(link).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = &answer.body;
    assert!(
        body.contains("block: core.nope") && body.contains("^"),
        "{body}"
    );
    assert!(body.contains(":4:12</code>"), "{body}");
    let answer = browser.get("/ui/files?path=/etc/passwd").await;
    assert_eq!(answer.status, 404, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_steps_run_only_with_the_flow_name_typed() {
    let fixture = fixture(None).await;
    let mut browser = fixture.browser();
    let page = browser.get("/ui/flows/retire").await;
    assert!(
        page.body
            .contains("This would run destructive step <code>disable</code>.")
            && page
                .body
                .contains("Type the flow's name, <code>retire</code>, to confirm")
            && page
                .body
                .contains("<input type=\"text\" id=\"confirm\" name=\"confirm\""),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    for (confirm, why) in [
        (None, "Type the flow&#39;s name to confirm"),
        (Some("Retire"), "That is not the flow&#39;s name"),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(confirm.map(|c| ("confirm", c)));
        let answer = browser.post("/ui/flows/retire/runs", &fields).await;
        assert_eq!(answer.status, 422, "{}", answer.body);
        assert!(answer.body.contains(why), "{why}: {}", answer.body);
    }
    assert!(
        fixture
            .daemon
            .store
            .firings(Some("retire"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let answer = browser
        .post(
            "/ui/flows/retire/runs",
            &[("csrf", &csrf), ("confirm", "retire")],
        )
        .await;
    let id = run_of(&answer);
    let firing = fixture
        .daemon
        .store
        .firing_of_run(&id)
        .await
        .unwrap()
        .unwrap();
    assert!(firing.allow_destructive);
    let run = fixture.ended(&id).await;
    assert_eq!(run.summary.status, RunState::Succeeded, "{:?}", run.report);

    // Re-running any step runs `disable` again: every step's form asks.
    let page = browser.get(&format!("/ui/runs/{id}")).await;
    assert!(
        page.body.contains("id=\"confirm-key\"") && page.body.contains("id=\"confirm-disable\""),
        "{}",
        page.body
    );
    let rerun = format!("/ui/runs/{id}/rerun");
    let answer = browser
        .post(
            &rerun,
            &[("csrf", &csrf), ("step", "disable"), ("confirm", "nope")],
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(
        answer.body.contains("That is not the flow&#39;s name")
            && answer
                .body
                .contains("<form class=\"rerun\" method=\"post\"")
            && answer.body.contains("name=\"step\" value=\"disable\""),
        "{}",
        answer.body
    );
    let answer = browser
        .post(
            &rerun,
            &[("csrf", &csrf), ("step", "disable"), ("confirm", "retire")],
        )
        .await;
    let new = run_of(&answer);
    let firing = fixture
        .daemon
        .store
        .firing_of_run(&new)
        .await
        .unwrap()
        .unwrap();
    assert!(firing.allow_destructive);
    let run = fixture.ended(&new).await;
    assert_eq!(run.summary.status, RunState::Succeeded, "{:?}", run.report);
    let key = run.report.steps.iter().find(|s| s.id == "key").unwrap();
    assert!(key.reused, "the key made by the first run stands");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_from_a_flow_or_a_form_is_shown_never_run() {
    let fixture = fixture(None).await;
    let mut browser = fixture.browser();
    let page = browser.get("/ui/flows/hostile").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains("<script>") && !page.body.contains("<img"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(
            "<option value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\" selected>"
        ) && page.body.contains("&lt;script&gt;alert(3)&lt;/script&gt;"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let answer = browser
        .post(
            "/ui/flows/hostile/runs",
            &[
                ("csrf", &csrf),
                ("param.pick", "</option><script>alert(4)</script>"),
                ("param.<script>alert(5)</script>", "x"),
            ],
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(!answer.body.contains("<script>"), "{}", answer.body);
    assert!(
        answer
            .body
            .contains("parameter `&lt;script&gt;alert(5)&lt;/script&gt;`"),
        "{}",
        answer.body
    );
    let answer = browser
        .get("/ui/flows/hostile/plan?param.pick=%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        !answer.body.contains("<img") && answer.body.contains("&lt;img src=x"),
        "{}",
        answer.body
    );
}

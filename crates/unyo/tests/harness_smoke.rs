//! Checks the test harness itself (not the application).

mod support;

#[test]
fn free_port_is_bindable() {
    let port = support::free_port();
    assert_ne!(port, 0);
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the free port can be bound");
}

#[tokio::test]
async fn browser_reads_a_heading() {
    if !support::e2e_enabled() {
        return;
    }
    let browser = support::Browser::start().await;
    browser.open("data:text/html,<h1>ok</h1>").await;
    assert_eq!(browser.text("h1").await, "ok");
    browser.close().await;
}

//! Shutdown on SIGINT or SIGTERM, as a future any runtime can await.

use std::future::Future;

/// Completes when the process gets SIGINT or SIGTERM (Ctrl-C on platforms without
/// signals is not watched: the future then never completes). Watching starts when this
/// is called, on a thread of its own.
pub fn shutdown() -> impl Future<Output = ()> + Send + 'static {
    let (tx, rx) = async_channel::bounded::<i32>(1);
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
            Ok(mut signals) => {
                let spawned = std::thread::Builder::new()
                    .name("dhcp-signals".into())
                    .spawn(move || {
                        if let Some(sig) = signals.forever().next() {
                            let _ = tx.send_blocking(sig);
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!("not watching for SIGINT/SIGTERM: {e}");
                }
            }
            Err(e) => tracing::warn!("not watching for SIGINT/SIGTERM: {e}"),
        }
    }
    #[cfg(not(unix))]
    std::mem::forget(tx);
    async move {
        if let Ok(sig) = rx.recv().await {
            tracing::info!("signal {sig}: stopping");
        }
    }
}

/// The signals in `signals` as they arrive (unix; elsewhere nothing ever arrives), watched
/// on a thread of its own. A signal watched here no longer has its default action.
pub fn watch(signals: &[i32]) -> async_channel::Receiver<i32> {
    let (tx, rx) = async_channel::unbounded::<i32>();
    #[cfg(unix)]
    match signal_hook::iterator::Signals::new(signals) {
        Ok(mut s) => {
            let spawned = std::thread::Builder::new()
                .name("dhcp-signal-watch".into())
                .spawn(move || {
                    for sig in s.forever() {
                        if tx.send_blocking(sig).is_err() {
                            break;
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!("not watching signals {signals:?}: {e}");
            }
        }
        Err(e) => tracing::warn!("not watching signals {signals:?}: {e}"),
    }
    #[cfg(not(unix))]
    {
        let _ = signals;
        std::mem::forget(tx);
    }
    rx
}

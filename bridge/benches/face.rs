//! Face-auth result latency: from a `face/` file becoming complete (renamed into place,
//! or written in place) to the event being published to subscribers. Today's tools poll
//! every 5 s; the target is p50 < 50 ms, p99 < 200 ms. Run with `cargo xtask bench`.

use bridge::gateway::folder::{write_atomically, FolderConfig, FolderGateway};
use bridge::gateway::sim::Sim;
use bridge::gateway::{peer, Gateway};
use eligibility::Date;
use std::time::{Duration, Instant};

const RUNS: usize = 300;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let today = Date::parse("2026-11-25").expect("date");
        let dir = std::env::temp_dir().join(format!("madoguchi-face-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        peer::prepare(&dir).expect("folders");
        let gateway = FolderGateway::start(FolderConfig::new(&dir)).expect("gateway");
        let mut events = gateway.events();
        let xml = Sim::new(today)
            .face_answer("yamada", today, "20261125090000")
            .expect("answer")
            .to_xml();
        let face = dir.join("face");
        println!("\nface/ file complete → event published ({RUNS} runs each)");
        println!("{:<28} {:>10} {:>10} {:>10}", "how the file arrives", "p50", "p99", "max");
        for (label, atomic) in [("rename into place", true), ("written in place", false)] {
            let mut times = Vec::with_capacity(RUNS);
            for n in 0..RUNS {
                let name = format!("OQSsiquc01res_face_{label:.1}{n:05}_20261125090000.xml")
                    .replace(' ', "");
                let start = Instant::now();
                if atomic {
                    write_atomically(&face, &name, xml.as_bytes()).expect("write");
                } else {
                    std::fs::write(face.join(&name), xml.as_bytes()).expect("write");
                }
                tokio::time::timeout(Duration::from_secs(5), events.recv())
                    .await
                    .expect("event within 5 s")
                    .expect("event");
                times.push(start.elapsed());
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{label:<28} {:>7.2} ms {:>7.2} ms {:>7.2} ms",
                ms(times[RUNS / 2]),
                ms(times[(RUNS - 1) * 99 / 100]),
                ms(times[RUNS - 1])
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}

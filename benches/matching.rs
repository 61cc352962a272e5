//! Matching at scale: 100 profiles × 100 000 offers. Each offer is folded
//! and indexed once (`Indexed::new`); every profile is then evaluated on it,
//! through a `MatcherSet` (what a poll does: a term shared by several
//! profiles is searched once per offer) and, for comparison, one `Matcher`
//! at a time. Target (issue 6): the evaluation pass in ≤ 1 s on one core.
//!
//! Run: `cargo bench --bench matching`

use criterion::{Criterion, criterion_group, criterion_main};
use veille::matcher::{Indexed, Matcher, MatcherSet, OfferText, Pattern, ProfileSpec, Query};

const WORDS: [&str; 24] = [
    "rust",
    "python",
    "java",
    "développeur",
    "developer",
    "stage",
    "alternance",
    "data",
    "backend",
    "frontend",
    "full-stack",
    "devops",
    "cloud",
    "embarqué",
    "junior",
    "senior",
    "ingénieur",
    "engineer",
    "analyst",
    "react",
    "node.js",
    "c++",
    "sécurité",
    "réseau",
];
const CITIES: [&str; 8] = [
    "Rouen", "Paris", "Lyon", "Nantes", "Caen", "Lille", "Remote", "Bordeaux",
];

/// A small deterministic generator, so every run measures the same data.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn word(&mut self) -> &'static str {
        WORDS[self.next() % WORDS.len()]
    }
}

fn profiles(n: usize) -> Vec<Matcher> {
    let mut r = Lcg(7);
    (0..n)
        .map(|i| {
            let query = match i % 4 {
                0 => format!("({} OR {}) {} -{}", r.word(), r.word(), r.word(), r.word()),
                1 => format!("title:{} \"{} {}\"", r.word(), r.word(), r.word()),
                2 => format!("{}* OR {} OR {}", &r.word()[..3], r.word(), r.word()),
                _ => format!("{} NOT {}", r.word(), r.word()),
            };
            Matcher::new(ProfileSpec {
                query: Query::parse(&query).ok(),
                keywords: vec![Pattern::parse(r.word()).unwrap()],
                exclude: vec![Pattern::parse("lead").unwrap()],
                locations: if i % 3 == 0 {
                    vec![Pattern::parse(CITIES[i % CITIES.len()]).unwrap()]
                } else {
                    Vec::new()
                },
                block_companies: Vec::new(),
            })
        })
        .collect()
}

fn make_offers(n: usize) -> Vec<Indexed> {
    let mut r = Lcg(42);
    let tags: Vec<String> = vec!["Informatique".into()];
    (0..n)
        .map(|_| {
            let title = format!(
                "{} {} {} – {}",
                r.word(),
                r.word(),
                r.word(),
                CITIES[r.next() % CITIES.len()]
            );
            let summary: String = (0..40).map(|_| r.word()).collect::<Vec<_>>().join(" ");
            Indexed::new(&OfferText {
                title: &title,
                company: Some("Acme Société"),
                location: Some(CITIES[r.next() % CITIES.len()]),
                contract: None,
                tags: &tags,
                summary: Some(&summary),
                remote: None,
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let profiles = profiles(100);
    let set = MatcherSet::new(profiles.clone());
    let offers = make_offers(100_000);
    let mut group = c.benchmark_group("matching");
    group.sample_size(10);
    group.bench_function("set: 100 profiles x 100k offers", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for o in &offers {
                let mut eval = set.on(o);
                for k in 0..set.len() {
                    hits += eval.evaluate(k).is_some() as usize;
                }
            }
            hits
        })
    });
    group.bench_function("each: 100 profiles x 100k offers", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for o in &offers {
                for p in &profiles {
                    hits += p.evaluate(o).is_some() as usize;
                }
            }
            hits
        })
    });
    group.bench_function("index 10k offers", |b| b.iter(|| make_offers(10_000).len()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

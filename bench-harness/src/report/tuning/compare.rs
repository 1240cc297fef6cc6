//! `tuning-compare.html`: two or more CPUs' maps side by side, on `tuning.html`'s heatmaps.

use super::*;

/// Two or more CPUs' maps side by side: their regret figures, a heatmap per kind for each CPU
/// with the cells whose winning algorithm differs from the first map's framed, and every
/// common layer whose winning algorithm differs.
pub(crate) fn compare_page(
    files: &[(String, TuningFile)],
    note: Option<&str>,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut page = Page::new(
        "simdconv tuning maps compared",
        &format!("{} tuning maps compared", files.len()),
    );
    if let Some(n) = note {
        page.note(html! { strong { (n) } });
    }
    page.add(summary_table(files));
    let first = &files[0].1;
    let mut differ: Vec<String> = Vec::new();
    for l in &first.map.layers {
        let a = winner(first, &l.name).map(|v| algorithm_of(&v));
        if files[1..]
            .iter()
            .any(|(_, f)| winner(f, &l.name).is_some_and(|v| Some(algorithm_of(&v)) != a))
        {
            differ.push(l.name.clone());
        }
    }
    page.heading("Crossover maps side by side");
    page.add(legend(false));
    for kind in KINDS {
        let mut maps = Vec::new();
        for (i, (path, f)) in files.iter().enumerate() {
            let outline: &[String] = if i == 0 { &[] } else { &differ };
            if let Some(svg) = heatmap(&f.map, kind, &BTreeMap::new(), outline)? {
                maps.push((path, svg));
            }
        }
        if !maps.is_empty() {
            page.add(html! {
                div.row { @for (path, svg) in &maps { div { div.note { (path) } (svg) } } }
            });
        }
    }
    page.heading("Every layer whose winning algorithm differs");
    page.text(&format!(
        "{} of {} layers of the first map.",
        differ.len(),
        first.map.layers.len()
    ));
    page.add(differ_table(files, &differ));
    Ok(page.finish())
}

/// One row per map: its CPU, ISAs, size and regret figures.
fn summary_table(files: &[(String, TuningFile)]) -> Markup {
    let mut t = Table::new(
        "",
        &[
            "map",
            "CPU",
            "ISAs",
            "layers",
            "auto geomean regret",
            "auto max",
            "cost model geomean",
        ],
    );
    for (path, f) in files {
        let ev = f.evaluation.as_ref();
        let cost = ev.and_then(|e| e.baselines.iter().find(|b| b.rule == Rule::CostModel));
        t.row(
            &[
                l(path.clone()),
                l(f.machine.model.clone()),
                l(f.settings
                    .isas
                    .as_ref()
                    .map_or("all".into(), |l| l.join(","))),
                r(f.map.layers.len().to_string()),
                r(ev.map_or("–".into(), |e| format!("{:.3}", e.geomean_regret))),
                r(ev.map_or("–".into(), |e| format!("{:.3}", e.max_regret))),
                r(cost.map_or("–".into(), |c| format!("{:.3}", c.geomean_regret))),
            ],
            false,
        );
    }
    t.finish()
}

/// The fastest variant on `f`'s map for the layer called `name`.
fn winner(f: &TuningFile, name: &str) -> Option<String> {
    f.map
        .layers
        .iter()
        .find(|l| l.name == name)
        .and_then(|l| l.best(|_| true))
        .map(|b| b.variant.clone())
}

/// The layers whose winning algorithm differs, with each map's winner.
fn differ_table(files: &[(String, TuningFile)], differ: &[String]) -> Markup {
    let first = &files[0].1;
    let mut headers = vec!["layer".to_string(), "shape".to_string()];
    headers.extend(files.iter().map(|(p, _)| format!("fastest on {p}")));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new("", &headers);
    for name in differ {
        let shape = first
            .map
            .layers
            .iter()
            .find(|l| &l.name == name)
            .and_then(|l| l.shape.shape().ok())
            .map(|s| crate::schema::results::ShapeRecord::of(&s).to_string())
            .unwrap_or_default();
        let mut cells = vec![l(name.clone()), l(shape)];
        cells.extend(
            files
                .iter()
                .map(|(_, f)| l(winner(f, name).unwrap_or("–".into()))),
        );
        t.row_class(&cells, Some(RowClass::Tie));
    }
    t.finish()
}

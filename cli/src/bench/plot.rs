//! `tlsrec bench --plot FILE.svg`: GB/s against record size ([`plot`]),
//! drawn with plotters' SVG backend.

use std::path::Path;

use plotters::prelude::*;

use super::Figure;

/// Write sizes a plot needs `bulk-N` figures for (the x axis).
pub const PLOT_WRITES: &[usize] = &[64, 256, 1024, 4096, 16384];

/// The write size of a `bulk-N` / `bulk-zc-N` / `bulk-tcp-N` case, and its
/// kind (`""`, `"zc"`, `"tcp"`).
fn bulk_case(case: &str) -> Option<(&'static str, usize)> {
    let rest = case.strip_prefix("bulk-")?;
    for (kind, prefix) in [("zc", "zc-"), ("tcp", "tcp-")] {
        if let Some(n) = rest.strip_prefix(prefix) {
            return n.parse().ok().map(|n| (kind, n));
        }
    }
    rest.parse().ok().map(|n| ("", n))
}

/// One line of a panel: a label and its points (write size, GB/s).
struct Series {
    label: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
}

/// The series of one suite's panel, for one provider (`provider`): tlsrec
/// (`bulk-N`), tlsrec zero-copy (`bulk-zc-N`) and raw seal+open with it,
/// rustls with the same provider (aws-lc-rs where rustls lacks it), and
/// OpenSSL. In-memory cases only (the TCP figures measure the sockets too).
fn series(figs: &[Figure], suite: &str, provider: &str) -> Vec<Series> {
    let rustls_prov = if figs
        .iter()
        .any(|f| f.suite == suite && f.imp == "rustls" && f.provider == provider)
    {
        provider
    } else {
        "aws-lc-rs"
    };
    // The points of `imp` / `kind` (`""` or `"zc"`) with `prov` (any if
    // `None`).
    let points = |imp: &str, kind: &str, prov: Option<&str>| {
        let mut v: Vec<(f64, f64)> = figs
            .iter()
            .filter(|f| f.suite == suite && f.imp == imp && prov.is_none_or(|p| f.provider == p))
            .filter_map(|f| {
                bulk_case(&f.case)
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, n)| (n as f64, f.gbps))
            })
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let line = |label: String, points: Vec<(f64, f64)>, color: RGBColor, dashed: bool| Series {
        label,
        points,
        color,
        dashed,
    };
    [
        line(
            format!("tlsrec zero-copy, bulk-zc-N ({provider})"),
            points("tlsrec", "zc", Some(provider)),
            RGBColor(0, 90, 200),
            false,
        ),
        line(
            format!("tlsrec, bulk-N ({provider})"),
            points("tlsrec", "", Some(provider)),
            RGBColor(90, 170, 255),
            false,
        ),
        line(
            format!("raw AEAD seal+open ({provider})"),
            points("raw", "", Some(provider)),
            RGBColor(60, 60, 60),
            true,
        ),
        line(
            format!("rustls 0.23 ({rustls_prov})"),
            points("rustls", "", Some(rustls_prov)),
            RGBColor(230, 120, 0),
            false,
        ),
        line(
            "OpenSSL 3 (libcrypto)".to_string(),
            points("openssl", "", None),
            RGBColor(200, 30, 30),
            false,
        ),
    ]
    .into_iter()
    .filter(|s| !s.points.is_empty())
    .collect()
}

/// Draws GB/s against write (record) size from the `bulk-N` and
/// `bulk-zc-N` figures in `figs` (in memory; a log scale of sizes), one
/// panel per suite, to the SVG file `path`: tlsrec, tlsrec zero-copy and
/// the raw AEAD with the library's default provider (the one
/// [`provider_note`](super::provider_note) names; the first measured one
/// if it has no figures), rustls with the same provider, OpenSSL. Figures
/// at more sizes ([`PLOT_WRITES`]) make better lines.
///
/// # Errors
/// When there is nothing to draw or the file cannot be written.
pub fn plot(figs: &[Figure], path: &Path) -> Result<(), String> {
    let mut suites: Vec<&str> = Vec::new();
    for f in figs {
        if bulk_case(&f.case).is_some_and(|(k, _)| k != "tcp") && !suites.contains(&f.suite) {
            suites.push(f.suite);
        }
    }
    if suites.is_empty() {
        return Err("no bulk-N figures to plot".into());
    }
    let cols = suites.len().min(2);
    let rows = suites.len().div_ceil(cols);
    let (w, h) = (720 * cols as u32, 540 * rows as u32);
    let root = SVGBackend::new(path, (w, h)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| format!("{}: {e:?}", path.display());
    root.fill(&WHITE).map_err(err)?;
    let panels = root.split_evenly((rows, cols));
    let default = tlsrec::cipher::Provider::default().name();
    let provider = if figs
        .iter()
        .any(|f| f.imp == "tlsrec" && f.provider == default)
    {
        default
    } else {
        figs.iter()
            .find(|f| f.imp == "tlsrec")
            .map_or(default, |f| f.provider)
    };
    for (suite, area) in suites.iter().zip(panels.iter()) {
        let all = series(figs, suite, provider);
        let (xmin, xmax) = all
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold((f64::MAX, 0f64), |(a, b), x| (a.min(x), b.max(x)));
        let ymax = all
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0f64, f64::max);
        let (xmin, xmax) = if xmin < xmax {
            (xmin / 1.3, xmax * 1.3)
        } else {
            (xmin / 2.0, xmin * 2.0)
        };
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{suite}: bulk transfer, one thread"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d((xmin..xmax).log_scale(), 0f64..ymax * 1.1 + 1e-9)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("bytes per write (record size), log scale")
            .y_desc("GB/s (10^9 plaintext bytes per second)")
            .x_label_formatter(&|x| format!("{}", x.round()))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(200, 200, 200))
            .draw()
            .map_err(err)?;
        for s in &all {
            let style = ShapeStyle::from(&s.color).stroke_width(2);
            let color = s.color;
            let anno = if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))
                    .map_err(err)?
            } else {
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), style))
                    .map_err(err)?
            };
            anno.label(s.label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
            chart
                .draw_series(
                    s.points
                        .iter()
                        .map(|&p| Circle::new(p, 3, s.color.filled())),
                )
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(case: &str, imp: &'static str, provider: &'static str, gbps: f64) -> Figure {
        Figure {
            case: case.into(),
            suite: "TLS_AES_128_GCM_SHA256",
            imp,
            provider,
            gbps,
        }
    }

    #[test]
    fn cases_parse() {
        assert_eq!(bulk_case("bulk-64"), Some(("", 64)));
        assert_eq!(bulk_case("bulk-zc-16384"), Some(("zc", 16384)));
        assert_eq!(bulk_case("bulk-tcp-1024"), Some(("tcp", 1024)));
        assert_eq!(bulk_case("seal-64"), None);
    }

    #[test]
    fn draws_an_svg() {
        let mut figs = Vec::new();
        for (i, n) in PLOT_WRITES.iter().enumerate() {
            let x = i as f64 + 1.0;
            figs.push(fig(&format!("bulk-{n}"), "tlsrec", "ring", x));
            figs.push(fig(&format!("bulk-zc-{n}"), "tlsrec", "ring", x * 1.1));
            figs.push(fig(&format!("bulk-{n}"), "raw", "ring", x * 1.2));
            figs.push(fig(&format!("bulk-{n}"), "rustls", "ring", x * 0.8));
            figs.push(fig(&format!("bulk-{n}"), "openssl", "libcrypto", x * 0.5));
            figs.push(fig(&format!("bulk-tcp-{n}"), "tlsrec", "ring", x * 0.3));
        }
        let path = std::env::temp_dir().join(format!("tlsrec-plot-{}.svg", std::process::id()));
        plot(&figs, &path).expect("plot");
        let svg = std::fs::read_to_string(&path).expect("svg");
        std::fs::remove_file(&path).ok();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("tlsrec zero-copy"));
        assert!(svg.contains("OpenSSL 3"));
        assert!(plot(&[], &path).is_err());
    }
}

//! A text detector's probability map to the lines of text in the image (DB's post-processing,
//! as PaddleOCR's `DBPostProcess` and RapidOCR's `TextDetector` run it):
//! - the map thresholded, grown by one pixel up and left (OpenCV's `dilate` with a 2 x 2 kernel);
//! - the borders of its regions (imageproc's Suzuki-Abe contours, as OpenCV's `findContours`);
//! - each border's minimum-area rectangle (imageproc's rotating calipers, as `minAreaRect`),
//!   dropped when its shorter side is under 3 pixels or its mean probability under the box
//!   threshold;
//! - the rectangle grown on every side by its area times the unclip ratio over its perimeter,
//!   as pyclipper's round offset does it (corners truncated to whole pixels, arcs in Clipper's
//!   steps, points rounded), and the minimum-area rectangle of that;
//! - its corners scaled to the image, ordered (top left, top right, bottom right, bottom left),
//!   clipped, lines of 3 pixels or less dropped, and the rest sorted in reading order.

use imageproc::contours::find_contours;
use imageproc::geometry::convex_hull;
use imageproc::image::GrayImage;
use imageproc::point::Point;

use super::DetectorSettings;

/// A quadrilateral: four corners, `[x, y]` each.
pub type Quad = [[f64; 2]; 4];

/// The lines of a `width x height` probability map, in the pixels of the `image_width x
/// image_height` image it was made from, in reading order.
pub fn find_lines(
    map: &[f32],
    width: usize,
    height: usize,
    image_width: u32,
    image_height: u32,
    settings: &DetectorSettings,
) -> Vec<Quad> {
    if width == 0 || height == 0 || map.len() != width * height {
        return vec![];
    }
    let bitmap = text_pixels(map, width, height, settings);
    let mut lines = vec![];
    for contour in find_contours::<i32>(&bitmap).into_iter().take(settings.max_candidates) {
        let points: Vec<Point<f64>> = contour.points.iter().map(|p| Point::new(p.x as f64, p.y as f64)).collect();
        let Some((rect, shorter)) = mini_box(&points) else { continue };
        if shorter < 3.0 {
            continue;
        }
        if score(map, width, height, &rect) < settings.box_threshold as f64 {
            continue;
        }
        let grown = unclip(&rect, settings.unclip_ratio);
        let Some((rect, shorter)) = mini_box(&grown) else { continue };
        if shorter < 5.0 {
            continue;
        }
        let scale =
            |v: f64, from: usize, to: u32| (v / from as f64 * to as f64).round_ties_even().clamp(0.0, to as f64);
        let scaled = rect.map(|[x, y]| [scale(x, width, image_width), scale(y, height, image_height)]);
        // RapidOCR's filter_tag_det_res: ordered, clipped to the image's last pixel, truncated.
        let mut quad = order_clockwise(scaled);
        for p in &mut quad {
            p[0] = p[0].clamp(0.0, image_width.saturating_sub(1) as f64).trunc();
            p[1] = p[1].clamp(0.0, image_height.saturating_sub(1) as f64).trunc();
        }
        if distance(quad[0], quad[1]).trunc() <= 3.0 || distance(quad[0], quad[3]).trunc() <= 3.0 {
            continue;
        }
        lines.push(quad);
    }
    reading_order(&mut lines);
    lines
}

/// The map's text pixels (255), dilated when the settings say so.
fn text_pixels(map: &[f32], width: usize, height: usize, settings: &DetectorSettings) -> GrayImage {
    let above: Vec<bool> = map.iter().map(|&p| p > settings.threshold).collect();
    let mut bitmap = GrayImage::new(width as u32, height as u32);
    for y in 0..height {
        for x in 0..width {
            let at = |dx: usize, dy: usize| x >= dx && y >= dy && above[(y - dy) * width + (x - dx)];
            let on = if settings.dilate { at(0, 0) || at(1, 0) || at(0, 1) || at(1, 1) } else { at(0, 0) };
            if on {
                bitmap.put_pixel(x as u32, y as u32, imageproc::image::Luma([255]));
            }
        }
    }
    bitmap
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// The minimum-area rectangle of some points, its corners in `get_mini_boxes`' order (top left,
/// top right, bottom right, bottom left, by sorting on x then y), and its shorter side.
fn mini_box(points: &[Point<f64>]) -> Option<(Quad, f64)> {
    let mut p = min_area_rect(points)?.to_vec();
    let shorter = distance(p[0], p[1]).min(distance(p[1], p[2]));
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (i1, i4) = if p[1][1] > p[0][1] { (0, 1) } else { (1, 0) };
    let (i2, i3) = if p[3][1] > p[2][1] { (2, 3) } else { (3, 2) };
    Some(([p[i1], p[i2], p[i3], p[i4]], shorter))
}

/// The smallest rectangle around some points, as OpenCV's `minAreaRect` finds it: one side on
/// an edge of their convex hull (imageproc's), the rectangle's corners exact (imageproc's
/// `min_area_rect` rounds them outwards to whole pixels, and leaves out the hull's closing edge).
fn min_area_rect(points: &[Point<f64>]) -> Option<Quad> {
    let hull = convex_hull(points.to_vec());
    let first = *hull.first()?;
    if hull.len() < 3 {
        let last = hull[hull.len() - 1];
        return Some([[first.x, first.y], [last.x, last.y], [last.x, last.y], [first.x, first.y]]);
    }
    let mut best: Option<(f64, Quad)> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let length = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
        if length == 0.0 {
            continue;
        }
        // The edge's direction u and its normal v; every point's coordinates along them.
        let (ux, uy) = ((b.x - a.x) / length, (b.y - a.y) / length);
        let (vx, vy) = (-uy, ux);
        let (mut u0, mut u1, mut v0, mut v1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in &hull {
            let (u, v) = (p.x * ux + p.y * uy, p.x * vx + p.y * vy);
            (u0, u1, v0, v1) = (u0.min(u), u1.max(u), v0.min(v), v1.max(v));
        }
        let area = (u1 - u0) * (v1 - v0);
        if best.as_ref().is_none_or(|(smallest, _)| area < *smallest) {
            let corner = |u: f64, v: f64| [u * ux + v * vx, u * uy + v * vy];
            best = Some((area, [corner(u0, v0), corner(u1, v0), corner(u1, v1), corner(u0, v1)]));
        }
    }
    best.map(|(_, rect)| rect)
}

/// The mean probability inside a rectangle (`box_score_fast`: the pixels of its bounding box
/// that OpenCV's `fillPoly` of its corners, truncated to whole pixels, would cover).
fn score(map: &[f32], width: usize, height: usize, rect: &Quad) -> f64 {
    let low = |axis: usize, last: usize| {
        rect.iter().map(|p| p[axis].floor()).fold(f64::MAX, f64::min).clamp(0.0, last as f64) as usize
    };
    let high = |axis: usize, last: usize| {
        rect.iter().map(|p| p[axis].ceil()).fold(f64::MIN, f64::max).clamp(0.0, last as f64) as usize
    };
    let (x0, x1) = (low(0, width - 1), high(0, width - 1));
    let (y0, y1) = (low(1, height - 1), high(1, height - 1));
    // The corners relative to the bounding box, truncated as numpy's astype(int32) does.
    let corners = rect.map(|[x, y]| [(x - x0 as f64).trunc(), (y - y0 as f64).trunc()]);
    let (mut sum, mut count) = (0.0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if inside(&corners, (x - x0) as f64, (y - y0) as f64) {
                sum += map[y * width + x] as f64;
                count += 1;
            }
        }
    }
    if count == 0 {
        0.0
    } else {
        sum / count as f64
    }
}

/// Whether a point is inside a convex quadrilateral or on its edges.
fn inside(quad: &Quad, x: f64, y: f64) -> bool {
    let mut sign = 0.0f64;
    for i in 0..4 {
        let (a, b) = (quad[i], quad[(i + 1) % 4]);
        let cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
        if cross != 0.0 {
            if sign != 0.0 && cross.signum() != sign {
                return false;
            }
            sign = cross.signum();
        }
    }
    true
}

/// The rectangle grown by `area * ratio / perimeter` on every side with round corners: the
/// points of pyclipper's `PyclipperOffset` (`JT_ROUND`, `ET_CLOSEDPOLYGON`, its default arc
/// tolerance of 0.25) for the rectangle's corners truncated to whole pixels.
fn unclip(rect: &Quad, ratio: f64) -> Vec<Point<f64>> {
    let area = shoelace(rect).abs();
    let perimeter: f64 = (0..4).map(|i| distance(rect[i], rect[(i + 1) % 4])).sum();
    if perimeter == 0.0 {
        return rect.iter().map(|p| Point::new(p[0], p[1])).collect();
    }
    let delta = area * ratio / perimeter;
    let corners: Vec<[f64; 2]> = rect.iter().map(|p| [p[0].trunc(), p[1].trunc()]).collect();
    // Each edge's unit normal, turned to the outside (away from the centre).
    let centre = [corners.iter().map(|p| p[0]).sum::<f64>() / 4.0, corners.iter().map(|p| p[1]).sum::<f64>() / 4.0];
    let mut normals: Vec<[f64; 2]> = (0..4)
        .map(|i| {
            let (a, b) = (corners[i], corners[(i + 1) % 4]);
            let length = distance(a, b);
            if length == 0.0 {
                [0.0, 0.0]
            } else {
                [(b[1] - a[1]) / length, -(b[0] - a[0]) / length]
            }
        })
        .collect();
    let (a, b) = (corners[0], corners[1]);
    let middle = [(a[0] + b[0]) / 2.0 - centre[0], (a[1] + b[1]) / 2.0 - centre[1]];
    if normals[0][0] * middle[0] + normals[0][1] * middle[1] < 0.0 {
        normals.iter_mut().for_each(|n| *n = [-n[0], -n[1]]);
    }
    let tolerance = 0.25f64.min(delta.abs() * 0.25);
    let mut steps = if delta == 0.0 { 1.0 } else { std::f64::consts::PI / (1.0 - tolerance / delta.abs()).acos() };
    if steps > delta.abs() * std::f64::consts::PI {
        steps = delta.abs() * std::f64::consts::PI;
    }
    let steps_per_radian = steps / std::f64::consts::TAU;
    let step = std::f64::consts::TAU / steps;
    let mut points = vec![];
    for j in 0..4 {
        let k = (j + 3) % 4;
        let (nk, nj) = (normals[k], normals[j]);
        let p = corners[j];
        let sin_a = nk[0] * nj[1] - nj[0] * nk[1];
        let angle = sin_a.atan2(nk[0] * nj[0] + nk[1] * nj[1]);
        let count = ((steps_per_radian * angle.abs()).round() as i64).clamp(1, 1024);
        // From the normal of the edge before to the one after, the short way round.
        let (sin, cos) = ((step * angle.signum()).sin(), step.cos());
        let (mut x, mut y) = (nk[0], nk[1]);
        for _ in 0..count {
            points.push(Point::new((p[0] + x * delta).round(), (p[1] + y * delta).round()));
            (x, y) = (x * cos - sin * y, x * sin + y * cos);
        }
        points.push(Point::new((p[0] + nj[0] * delta).round(), (p[1] + nj[1] * delta).round()));
    }
    points
}

/// The signed area of a quadrilateral (shapely's `Polygon.area` is its absolute value).
fn shoelace(q: &[[f64; 2]; 4]) -> f64 {
    (0..4).map(|i| q[i][0] * q[(i + 1) % 4][1] - q[(i + 1) % 4][0] * q[i][1]).sum::<f64>() / 2.0
}

/// The corners as top left, top right, bottom right, bottom left (imutils' order_points: the two
/// leftmost by y, then the two rightmost by y).
fn order_clockwise(q: Quad) -> Quad {
    let mut by_x = q;
    by_x.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (mut left, mut right) = ([by_x[0], by_x[1]], [by_x[2], by_x[3]]);
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

/// RapidOCR's `sorted_boxes`: by the top left corner's y then x; then a line whose top is within
/// 10 pixels of the one before it and left of it moves before it.
fn reading_order(lines: &mut [Quad]) {
    lines.sort_by(|a, b| a[0][1].total_cmp(&b[0][1]).then(a[0][0].total_cmp(&b[0][0])));
    for i in 0..lines.len().saturating_sub(1) {
        for j in (0..=i).rev() {
            if (lines[j + 1][0][1] - lines[j][0][1]).abs() < 10.0 && lines[j + 1][0][0] < lines[j][0][0] {
                lines.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rectangle_of_text_is_one_line_grown_by_the_unclip_distance() {
        // A 40 x 10 block of text in a 64 x 32 map, in an image twice the size.
        let (w, h) = (64, 32);
        let mut map = vec![0.0f32; w * h];
        for y in 10..20 {
            for x in 10..50 {
                map[y * w + x] = 0.9;
            }
        }
        let lines = find_lines(&map, w, h, 128, 64, &DetectorSettings::default());
        assert_eq!(lines.len(), 1, "{lines:?}");
        let q = lines[0];
        // Dilated to 41 x 11 pixels (corners 10..50, 10..20), grown by 40 * 10 * 1.6 / 100 on
        // each side of the rectangle (pixel corners 10..50 and 10..20: 40 x 10).
        assert!(q[0][0] < 20.0 && q[0][1] < 20.0 && q[2][0] > 100.0 && q[2][1] > 40.0, "{q:?}");
        assert!(q[0][0] < q[1][0] && q[0][1] < q[3][1], "{q:?}");
    }

    #[test]
    fn nothing_above_the_threshold_is_no_line() {
        assert!(find_lines(&[0.1; 64], 8, 8, 8, 8, &DetectorSettings::default()).is_empty());
        assert!(find_lines(&[], 0, 0, 8, 8, &DetectorSettings::default()).is_empty());
        assert!(find_lines(&[0.9; 3], 8, 8, 8, 8, &DetectorSettings::default()).is_empty());
    }

    #[test]
    fn lines_of_one_row_read_left_to_right() {
        let mut lines = vec![
            [[50.0, 12.0], [90.0, 12.0], [90.0, 20.0], [50.0, 20.0]],
            [[0.0, 15.0], [40.0, 15.0], [40.0, 25.0], [0.0, 25.0]],
        ];
        reading_order(&mut lines);
        assert_eq!(lines[0][0], [0.0, 15.0]);
    }
}

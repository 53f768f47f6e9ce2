//! A line of text cut out of the image and straightened (RapidOCR's `get_rotate_crop_image`):
//! its four corners mapped onto an upright rectangle as wide as its longer horizontal edge and as
//! tall as its longer vertical one, by a perspective warp (imageproc's, bicubic, the image's
//! edge pixels repeated beyond it, as OpenCV's `warpPerspective` with `INTER_CUBIC` and
//! `BORDER_REPLICATE`); a line at least one and a half times as tall as wide (vertical text)
//! turned a quarter turn counter-clockwise.

use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};
use imageproc::image::{imageops, RgbImage};

use super::regions::Quad;

/// The line inside `corners` (top left, top right, bottom right, bottom left) of `image`,
/// upright; None for a line of less than a pixel, or corners no projection maps.
pub fn cut(image: &RgbImage, corners: &Quad) -> Option<RgbImage> {
    let length = |a: [f64; 2], b: [f64; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let [tl, tr, br, bl] = *corners;
    let width = length(tl, tr).max(length(br, bl)) as u32;
    let height = length(tl, bl).max(length(tr, br)) as u32;
    if width == 0 || height == 0 || width > crate::image::MAX_SIDE || height > crate::image::MAX_SIDE {
        return None;
    }
    let (w, h) = (width as f32, height as f32);
    let from = corners.map(|[x, y]| (x as f32, y as f32));
    let projection = Projection::from_control_points(from, [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)])?;
    let mut line = RgbImage::new(width, height);
    warp_into(image, projection, Interpolation::Bicubic, Border::Replicate, &mut line);
    if height as f64 / width as f64 >= 1.5 {
        line = imageops::rotate270(&line);
    }
    Some(line)
}

/// The line turned half a turn (the classifier found it upside down).
pub fn turn(line: &RgbImage) -> RgbImage {
    imageops::rotate180(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upright_rectangle_is_cut_as_it_is() {
        let image = RgbImage::from_fn(40, 20, |x, y| imageproc::image::Rgb([x as u8 * 5, y as u8 * 10, 7]));
        let line = cut(&image, &[[10.0, 5.0], [30.0, 5.0], [30.0, 15.0], [10.0, 15.0]]).unwrap();
        assert_eq!(line.dimensions(), (20, 10));
        assert_eq!(line.get_pixel(0, 0), image.get_pixel(10, 5));
        assert_eq!(line.get_pixel(19, 9), image.get_pixel(29, 14));
    }

    #[test]
    fn a_tall_line_is_turned_and_a_point_is_none() {
        let image = RgbImage::new(40, 40);
        let line = cut(&image, &[[10.0, 0.0], [20.0, 0.0], [20.0, 30.0], [10.0, 30.0]]).unwrap();
        assert_eq!(line.dimensions(), (30, 10));
        assert!(cut(&image, &[[5.0, 5.0]; 4]).is_none());
    }
}

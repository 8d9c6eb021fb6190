// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file jpeg.hpp
/// JPEG decoding with libjpeg-turbo, set up as Pillow 9.4 sets it up, so that the decoded samples
/// are bit-identical to Pillow's: Pillow decodes JPEG with the same library and its defaults
/// (islow integer DCT, fancy upsampling, no scaling). stb_image would not do: it has its own IDCT
/// and chroma upsampling, which differ from libjpeg's by a few levels.
///
/// - 1 component: greyscale; 3 components: RGB (libjpeg's colour transform from YCbCr, or none for
///   an Adobe RGB file); 4 components: CMYK (libjpeg turns YCCK into CMYK), then inverted as
///   Pillow's "CMYK;I" raw mode does ("assume adobe conventions").
/// - EXIF: the first APP1 segment starting "Exif\0" (as Pillow keeps the first one).
/// - Errors: libjpeg's error_exit is replaced by a handler that longjmps back to the decoding frame
///   (no C++ exception crosses the C library); a warning that the data ended early ("Premature end
///   of JPEG file", which libjpeg would answer by padding the image with grey) is an error too.

#include <vikcse/error.hpp>
#include <vikcse/image/convert.hpp>
#include <vikcse/image/exif.hpp>

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>  // jpeglib.h needs FILE
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <jerror.h>
#include <jpeglib.h>

namespace vikcse {

namespace detail {

/// libjpeg's error manager extended with the jump target and the message of the failure.
struct JpegErrorState {
  jpeg_error_mgr mgr;  // first member: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

/// error_exit: keeps the message and jumps back to the decoding frame.
inline void jpeg_error_exit(j_common_ptr cinfo) {
  auto* state = reinterpret_cast<JpegErrorState*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, state->message);
  std::longjmp(state->jump, 1);
}

/// emit_message: a premature end of data is fatal; other warnings and trace messages are ignored,
/// as Pillow ignores them.
inline void jpeg_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_error_exit(cinfo);
}

/// The decoding frame: every libjpeg call that may fail runs here, after setjmp, with no C++ object
/// of this frame alive across them. Returns false after a libjpeg error (the message is in `err`).
inline bool jpeg_decode_frame(const std::uint8_t* data, std::size_t size, jpeg_decompress_struct& cinfo,
                              JpegErrorState& err, DecodedFile& out, std::int64_t max_pixels, int& unsupported) {
  if (setjmp(err.jump) != 0) return false;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 5 && std::memcmp(m->data, "Exif\0", 5) == 0) {
      out.orientation = exif_orientation(std::span<const std::uint8_t>(m->data, m->data_length));
      break;
    }
  }
  switch (cinfo.num_components) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; out.pixels.mode = PixelMode::grey; break;
    case 3: cinfo.out_color_space = JCS_RGB; out.pixels.mode = PixelMode::rgb; break;
    case 4: cinfo.out_color_space = JCS_CMYK; out.pixels.mode = PixelMode::cmyk; break;
    default: unsupported = cinfo.num_components; return true;
  }
  if (static_cast<std::int64_t>(cinfo.image_width) * cinfo.image_height > max_pixels) {
    unsupported = -1;
    return true;
  }
  jpeg_start_decompress(&cinfo);
  out.pixels.width = static_cast<int>(cinfo.output_width);
  out.pixels.height = static_cast<int>(cinfo.output_height);
  const std::size_t stride = static_cast<std::size_t>(cinfo.output_width) * cinfo.output_components;
  out.pixels.samples.resize(stride * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.pixels.samples.data() + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

/// Destroys the decompressor when the decoding ends, however it ends.
struct JpegGuard {
  jpeg_decompress_struct* cinfo;
  ~JpegGuard() { jpeg_destroy_decompress(cinfo); }
};

}  // namespace detail

/// Decodes a JPEG file's bytes. `name` (the file) is named in every error.
/// @throws data_error when the data is not a complete JPEG that libjpeg decodes without error, or
///         has a component count other than 1, 3 or 4, or more than `max_pixels` pixels.
[[nodiscard]] inline DecodedFile decode_jpeg(std::span<const std::uint8_t> bytes, std::string_view name,
                                             std::int64_t max_pixels = std::int64_t{1} << 28) {
  jpeg_decompress_struct cinfo{};
  detail::JpegErrorState err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = detail::jpeg_error_exit;
  err.mgr.emit_message = detail::jpeg_emit_message;
  DecodedFile out;
  int unsupported = 0;
  bool ok = false;
  {
    detail::JpegGuard guard{&cinfo};
    ok = detail::jpeg_decode_frame(bytes.data(), bytes.size(), cinfo, err, out, max_pixels, unsupported);
  }
  if (!ok) {
    throw_error<data_error>("{}: not a valid JPEG image (expected a complete baseline or progressive JPEG; libjpeg: {})",
                            name, err.message);
  }
  if (unsupported == -1) {
    throw_error<data_error>("{}: JPEG image too large (expected at most {} pixels)", name, max_pixels);
  }
  if (unsupported != 0) {
    throw_error<data_error>("{}: unsupported JPEG with {} components (expected 1 greyscale, 3 YCbCr/RGB or 4 CMYK)",
                            name, unsupported);
  }
  if (out.pixels.mode == PixelMode::cmyk) {
    for (auto& v : out.pixels.samples) v = static_cast<std::uint8_t>(255 - v);  // Pillow's "CMYK;I"
  }
  return out;
}

}  // namespace vikcse

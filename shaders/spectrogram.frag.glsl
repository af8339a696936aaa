#version 300 es
// Spectrogram views. The data textures hold dB levels mapped to 0..1 over the view's range
// (one texel per STFT bin and frame; rows are bins, linear in frequency). The frequency axis is
// drawn on a log scale from u_min_hz to Nyquist, so low partials get the room they need.
//   u_mode 0: one spectrogram through the colour map
//   u_mode 1: difference reconstruction - target, blue (missing) .. white .. red (extra)
precision highp float;
in vec2 v_uv;
out vec4 frag_color;
uniform sampler2D u_target;
uniform sampler2D u_other;
uniform int u_mode;
uniform float u_min_hz;
uniform float u_nyquist_hz;
uniform vec2 u_time_range;       // the texture coordinates (across frames) of the view's left and right edges

// A perceptually ordered dark-blue -> magenta -> orange -> pale-yellow map (like "magma").
vec3 colour_map(float x) {
    x = clamp(x, 0.0, 1.0);
    vec3 c0 = vec3(0.001, 0.000, 0.014);
    vec3 c1 = vec3(0.316, 0.072, 0.485);
    vec3 c2 = vec3(0.716, 0.215, 0.475);
    vec3 c3 = vec3(0.987, 0.536, 0.382);
    vec3 c4 = vec3(0.987, 0.991, 0.750);
    if (x < 0.25) return mix(c0, c1, x * 4.0);
    if (x < 0.5) return mix(c1, c2, (x - 0.25) * 4.0);
    if (x < 0.75) return mix(c2, c3, (x - 0.5) * 4.0);
    return mix(c3, c4, (x - 0.75) * 4.0);
}

void main() {
    float log_lo = log2(u_min_hz);
    float log_hi = log2(u_nyquist_hz);
    float f_hz = exp2(mix(log_lo, log_hi, v_uv.y));
    vec2 tc = vec2(mix(u_time_range.x, u_time_range.y, v_uv.x), f_hz / u_nyquist_hz);
    if (tc.x < 0.0 || tc.x > 1.0) {  // before the first frame's centre or after the last: nothing there
        frag_color = vec4(0.07, 0.07, 0.09, 1.0);
        return;
    }
    float a = texture(u_target, tc).r;
    if (u_mode == 0) {
        frag_color = vec4(colour_map(a), 1.0);
    } else {
        float d = texture(u_other, tc).r - a;  // + : the reconstruction is louder here
        float m = clamp(abs(d) * 2.5, 0.0, 1.0);
        vec3 extra = vec3(0.90, 0.25, 0.20), missing = vec3(0.20, 0.45, 0.95);
        vec3 bg = vec3(0.06, 0.06, 0.08) + 0.25 * vec3(max(a, texture(u_other, tc).r));
        frag_color = vec4(mix(bg, d > 0.0 ? extra : missing, m), 1.0);
    }
}

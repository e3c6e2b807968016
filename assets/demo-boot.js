// Starts the demo page's wasm from a file rather than Trunk's inline <script>: the
// proxy serves HTML with a CSP that allows no inline script (Trunk.toml pattern_script).
const boot = document.getElementById('mend-demo-boot');
const { default: init } = await import(boot.dataset.js);
await init({ module_or_path: boot.dataset.wasm });

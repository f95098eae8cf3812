# Sourced by the tools/gpu/pack-*.sh scripts: what every GPU-machine pack carries besides its bundles.

# pack_node_dawn DIR: this machine's node and Dawn (npm `webgpu`), xz-compressed as
# ../shared/gpu/on-gpu.sh expects them (DIR/node.xz, DIR/node_modules/webgpu/...).
pack_node_dawn() {
  local dir=$1 w=node_modules/webgpu
  mkdir -p "$dir/node_modules/webgpu/dist/linux-x64"
  xz -T0 -3 -c "$(readlink -f "$(command -v node)")" > "$dir/node.xz"
  cp $w/index.js $w/package.json "$dir/node_modules/webgpu/"
  xz -T0 -3 -c $w/dist/linux-x64/dawn.node > "$dir/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
}

# pack_vulkan_debs DIR WHO: the Vulkan loader and GL dispatch libraries NVIDIA's Vulkan driver loads,
# as Debian packages in DIR (the GPU machine may lack them); WHO names the caller in the warning.
pack_vulkan_debs() {
  local dir=$1 who=$2 lists
  lists=$(mktemp -d)
  mkdir -p "$lists/partial" "$dir"
  local o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  apt-get $o update -qq > /dev/null 2>&1 || true
  (cd "$dir" && apt-get $o download -qq libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 > /dev/null 2>&1) ||
    echo "$who: could not download the Vulkan loader debs; hoping the GPU machine has them" >&2
  rm -rf "$lists"
}

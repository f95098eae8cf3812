// ICE setup. On one machine no STUN/TURN is needed (empty iceServers: host candidates
// only); on real networks pass STUN/TURN servers. Browser-only (main thread).

export function rtcConfig(iceServers: RTCIceServer[] = []): RTCConfiguration {
  return { iceServers };
}

/**
 * Chrome gathers loopback and private host candidates only for pages that hold a media
 * permission, so in a container whose only interfaces are loopback ICE finds nothing
 * without it. Asking for the microphone once (fake device under
 * --use-fake-device-for-media-stream, auto-granted with --use-fake-ui-for-media-stream)
 * unlocks them. Returns false if the page may not capture (harmless on a real network).
 */
export async function unlockHostCandidates(): Promise<boolean> {
  const media = globalThis.navigator?.mediaDevices;
  if (!media?.getUserMedia) return false;
  try {
    const stream = await media.getUserMedia({ audio: true });
    for (const track of stream.getTracks()) track.stop();
    return true;
  } catch {
    return false;
  }
}

// Local cameras and microphones: opening them and listing them in the preview.

/** getUserMedia constraints for one kind ("audio" or "video"), optionally one device. */
export function mediaConstraints(kind, deviceId) {
  if (kind === "video") {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    if (deviceId) video.deviceId = { exact: deviceId };
    return { video };
  }
  return { audio: deviceId ? { deviceId: { exact: deviceId } } : true };
}

/** Open one device; resolves to its track, rejects like getUserMedia. */
export async function openTrack(kind, deviceId) {
  const stream = await navigator.mediaDevices.getUserMedia(mediaConstraints(kind, deviceId));
  return kind === "video" ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
}

export function mediaSupported() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

export function screenShareSupported() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
}

/** Cameras and microphones, or empty lists when the browser will not tell. */
export async function listDevices() {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return {
      cameras: devices.filter((d) => d.kind === "videoinput"),
      microphones: devices.filter((d) => d.kind === "audioinput"),
    };
  } catch {
    return { cameras: [], microphones: [] };
  }
}

/**
 * Fill a <select> with devices and select the one `track` uses.
 * `numbered(n)` labels a device whose name is hidden; `none` is shown when there is none.
 */
export function fillDeviceSelect(select, devices, track, numbered, none) {
  const current = track ? track.getSettings().deviceId : select.value;
  select.replaceChildren();
  if (!devices.length) {
    select.append(new Option(none, ""));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  devices.forEach((device, i) => {
    const option = new Option(device.label || numbered(i + 1), device.deviceId);
    option.selected = device.deviceId === current;
    select.append(option);
  });
}

// The camera, for both pages: the picture in <video id="camera">, and frames grabbed from it.
const camera = {
  video: null,
  // Starts the camera; resolves once frames arrive, rejects with a sentence to show.
  async start() {
    this.video = document.getElementById("camera");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("this browser gives pages no camera here: open the page as " +
        "127.0.0.1 or localhost, on the machine with the camera");
    }
    const stream = await navigator.mediaDevices.getUserMedia(
      {video: {width: {ideal: 640}, height: {ideal: 480}}, audio: false});
    this.video.srcObject = stream;
    await this.video.play();
    while (!this.video.videoWidth) await new Promise(r => setTimeout(r, 50));
  },
  // The middle square of the picture, size x size, as a PNG blob: the photos are square, as
  // Teachable Machine's are, and the study fits them to its image_size.
  grab(size) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const side = Math.min(this.video.videoWidth, this.video.videoHeight);
    const left = (this.video.videoWidth - side) / 2, top = (this.video.videoHeight - side) / 2;
    canvas.getContext("2d").drawImage(this.video, left, top, side, side, 0, 0, size, size);
    return new Promise(resolve => canvas.toBlob(resolve, "image/png"));
  },
  async post(path, blob) {
    const response = await fetch(path, {method: "POST", body: blob});
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error);
    return answer;
  },
};

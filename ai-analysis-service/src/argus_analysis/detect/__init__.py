"""Motion detectors behind one ABC (``MotionDetector``): CPU (OpenCV) and CUDA."""

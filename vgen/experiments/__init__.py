"""Stand-alone experiments of the thesis that are not runs of the generic training loop.

gaussians2d  the 25-Gaussian mode-coverage experiment of ALI (thesis 4.4.5, Fig. 4.8)
"""

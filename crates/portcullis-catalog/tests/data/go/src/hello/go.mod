module github.com/portcullis-scan/hello

go 1.19

require github.com/portcullis-scan/greeting v1.4.0

replace github.com/portcullis-scan/greeting v1.4.0 => ../greeting

module github.com/portcullis-scan/greeting

go 1.19
